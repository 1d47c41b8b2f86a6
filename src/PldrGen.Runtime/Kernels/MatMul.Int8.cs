using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// Int8 weights times int8 activations, llama.cpp's Q8_0 scheme: each input row is quantised once per product in
/// blocks of 32 (scale max|block| / 127), a block's dot product is exact in int32, and only its sum meets the two
/// scales in float32. With AVX2 a group of 4 inputs costs one broadcast and, per 8 outputs, <c>vpsignb</c> +
/// <c>vpmaddubsw</c> + <c>vpmaddwd</c> + <c>vpaddd</c> (|x| as the unsigned operand and w with x's sign as the
/// signed one, so pair sums stay below 2·127·127 and never saturate). A tile of 4 rows shares each weight load.
/// Every row's float32 steps are the same in a tile as alone, so tiles and decode rows agree bit for bit.
/// </summary>
static unsafe partial class MatMul
{
    const int Block = WeightMatrix.Int8Block, Int8TileRows = 4;

    [ThreadStatic] static byte[]? t_quantized; // the calling thread's quantised activations and their scales

    /// <summary>Quantises the job's rows × k activations into the calling thread's scratch: [rows, blocks·32] bytes
    /// (<see cref="Job.XQ"/>), then [rows, blocks] scales (<see cref="Job.XScales"/>).</summary>
    static void QuantizeActivations(ref Job job, int k)
    {
        int rows = job.Rows, blocks = job.Blocks;
        float* x = job.X;
        long bytes = (long)rows * blocks * Block, length = bytes + (long)rows * blocks * sizeof(float) + 64;
        if (length > Array.MaxLength) throw new PldrException($"{rows} rows of {k} activations are too many to quantise at once");
        if (t_quantized is null || t_quantized.Length < length) t_quantized = GC.AllocateArray<byte>((int)length, pinned: true);
        byte* start = (byte*)Unsafe.AsPointer(ref t_quantized[0]);
        sbyte* values = (sbyte*)(start + (64 - (nint)start % 64) % 64);
        float* scales = (float*)(values + bytes);
        float* padded = stackalloc float[Block];
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < blocks; b++)
            {
                float* source = x + (long)r * k + b * Block;
                int valid = Math.Min(Block, k - b * Block);
                if (valid < Block) // the last block of a row, padded with zeros
                {
                    for (int i = 0; i < Block; i++) padded[i] = i < valid ? source[i] : 0;
                    source = padded;
                }
                scales[(long)r * blocks + b] = QuantizeBlock(source, values + ((long)r * blocks + b) * Block);
            }
        job.XQ = values;
        job.XScales = scales;
    }

    /// <summary>32 floats to round(x / d), d = max|x| / 127; returns d.</summary>
    static float QuantizeBlock(float* x, sbyte* q)
    {
        var v0 = Vector256.Load(x); var v1 = Vector256.Load(x + 8); var v2 = Vector256.Load(x + 16); var v3 = Vector256.Load(x + 24);
        var max = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
        float amax = 0;
        for (int i = 0; i < Vector256<float>.Count; i++) amax = MathF.Max(amax, max[i]);
        float d = amax / 127, inverse = amax == 0 ? 0 : 127 / amax;
        var scale = Vector256.Create(inverse);
        Narrow(Vector256.Round(v0 * scale), Vector256.Round(v1 * scale), q);
        Narrow(Vector256.Round(v2 * scale), Vector256.Round(v3 * scale), q + 16);
        return d;
    }

    /// <summary>16 whole floats in [−127, 127] stored as bytes.</summary>
    static void Narrow(Vector256<float> a, Vector256<float> b, sbyte* q)
    {
        var shorts = Vector256.Narrow(Vector256.ConvertToInt32(a), Vector256.ConvertToInt32(b));
        Vector128.Narrow(shorts.GetLower(), shorts.GetUpper()).Store(q);
    }

    /// <summary>Panel p of an int8 matrix for every input row: tiles of 4 rows, then single rows.</summary>
    static void Int8Panel(Job* job, int p, float* sums)
    {
        int o = p * Width, valid = Math.Min(Width, job->Out - o), blocks = job->Blocks, stride = blocks * Block;
        sbyte* w = job->WInt8 + p * job->PanelSize;
        float* ws = job->Scales + (long)p * blocks * Width;
        int t = 0;
        if (job->IntegerSimd && !job->RowByRow)
            for (; t + Int8TileRows <= job->Rows; t += Int8TileRows)
            {
                Int8Tile(job->XQ + (long)t * stride, job->XScales + (long)t * blocks, stride, w, ws, blocks, sums);
                for (int r = 0; r < Int8TileRows; r++) Store(sums + r * Width, valid, job->Bias, o, job->Y + (long)(t + r) * job->Out + o);
            }
        for (; t < job->Rows; t++)
        {
            sbyte* xq = job->XQ + (long)t * stride;
            float* xs = job->XScales + (long)t * blocks;
            if (job->IntegerSimd) Int8Row(xq, xs, w, ws, blocks, sums);
            else Int8RowPortable(xq, xs, w, ws, blocks, sums);
            Store(sums, valid, job->Bias, o, job->Y + (long)t * job->Out + o);
        }
    }

    /// <summary>Σ over 4 inputs of |x|·(w with x's sign), for 8 outputs: 8 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Dot4(Vector256<byte> xAbs, Vector256<sbyte> xSigned, Vector256<sbyte> w, Vector256<short> ones) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(xAbs, Avx2.Sign(w, xSigned)), ones);

    /// <summary>y[0..16) = x·W[panel]ᵀ for one quantised row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Int8Row(sbyte* xq, float* xs, sbyte* w, float* ws, int blocks, float* y)
    {
        var ones = Vector256.Create((short)1);
        Vector256<float> f0 = default, f1 = default;
        for (int b = 0; b < blocks; b++, xq += Block, w += Block * Width, ws += Width)
        {
            Vector256<int> a0 = default, a1 = default;
            for (int g = 0; g < Block / 4; g++)
            {
                var xSigned = Vector256.Create(*(int*)(xq + 4 * g)).AsSByte();
                var xAbs = Avx2.Abs(xSigned);
                a0 += Dot4(xAbs, xSigned, Vector256.Load(w + 64 * g), ones);
                a1 += Dot4(xAbs, xSigned, Vector256.Load(w + 64 * g + 32), ones);
            }
            var d = Vector256.Create(xs[b]);
            f0 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a0), Vector256.Load(ws) * d, f0);
            f1 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a1), Vector256.Load(ws + 8) * d, f1);
        }
        f0.Store(y);
        f1.Store(y + 8);
    }

    /// <summary>y[r, 0..16) for 4 quantised rows (row r at xq + r·stride): each weight load serves 4 rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Int8Tile(sbyte* xq, float* xs, int stride, sbyte* w, float* ws, int blocks, float* y)
    {
        var ones = Vector256.Create((short)1);
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default;
        Vector256<float> f20 = default, f21 = default, f30 = default, f31 = default;
        sbyte* x1 = xq + stride, x2 = xq + 2 * stride, x3 = xq + 3 * stride;
        for (int b = 0; b < blocks; b++, w += Block * Width, ws += Width)
        {
            Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default;
            Vector256<int> a20 = default, a21 = default, a30 = default, a31 = default;
            int at = b * Block;
            for (int g = 0; g < Block / 4; g++, at += 4)
            {
                var w0 = Vector256.Load(w + 64 * g);
                var w1 = Vector256.Load(w + 64 * g + 32);
                var s = Vector256.Create(*(int*)(xq + at)).AsSByte(); var u = Avx2.Abs(s);
                a00 += Dot4(u, s, w0, ones); a01 += Dot4(u, s, w1, ones);
                s = Vector256.Create(*(int*)(x1 + at)).AsSByte(); u = Avx2.Abs(s);
                a10 += Dot4(u, s, w0, ones); a11 += Dot4(u, s, w1, ones);
                s = Vector256.Create(*(int*)(x2 + at)).AsSByte(); u = Avx2.Abs(s);
                a20 += Dot4(u, s, w0, ones); a21 += Dot4(u, s, w1, ones);
                s = Vector256.Create(*(int*)(x3 + at)).AsSByte(); u = Avx2.Abs(s);
                a30 += Dot4(u, s, w0, ones); a31 += Dot4(u, s, w1, ones);
            }
            var s0 = Vector256.Load(ws);
            var s1 = Vector256.Load(ws + 8);
            var d = Vector256.Create(xs[b]);
            f00 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a00), s0 * d, f00); f01 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a01), s1 * d, f01);
            d = Vector256.Create(xs[blocks + b]);
            f10 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a10), s0 * d, f10); f11 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a11), s1 * d, f11);
            d = Vector256.Create(xs[2 * blocks + b]);
            f20 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a20), s0 * d, f20); f21 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a21), s1 * d, f21);
            d = Vector256.Create(xs[3 * blocks + b]);
            f30 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a30), s0 * d, f30); f31 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a31), s1 * d, f31);
        }
        f00.Store(y); f01.Store(y + 8); f10.Store(y + 16); f11.Store(y + 24);
        f20.Store(y + 32); f21.Store(y + 40); f30.Store(y + 48); f31.Store(y + 56);
    }

    /// <summary>The same row without AVX2 (older x64, Arm): integer block sums in plain loops.</summary>
    static void Int8RowPortable(sbyte* xq, float* xs, sbyte* w, float* ws, int blocks, float* y)
    {
        for (int j = 0; j < Width; j++) y[j] = 0;
        for (int b = 0; b < blocks; b++, xq += Block, w += Block * Width, ws += Width)
            for (int j = 0; j < Width; j++)
            {
                int sum = 0;
                for (int i = 0; i < Block; i++) sum += xq[i] * w[i / 4 * 64 + j * 4 + i % 4];
                y[j] += sum * (ws[j] * xs[b]);
            }
    }
}
