using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// Int8 weights times int8 activations, llama.cpp's Q8_0 scheme: each input row is quantised once per product in
/// blocks of 32 (scale max|block| / 127), a block's dot product is exact in int32, and only its sum meets the two
/// scales in float32. With AVX2 a group of 4 inputs costs one broadcast and, per 8 outputs, <c>vpsignb</c> +
/// <c>vpmaddubsw</c> + <c>vpmaddwd</c> + <c>vpaddd</c> (|x| as the unsigned operand and w with x's sign as the
/// signed one, so pair sums stay below 2·127·127 and never saturate); with AVX-VNNI, <c>vpsignb</c> +
/// <c>vpdpbusd</c>. A tile of 4 rows shares each weight load; with AVX-VNNI it takes x + 128 as the unsigned
/// operand (no saturation to avoid) and subtracts 128·Σw per block after, one instruction per 32 products. Every row's float32 steps are the same in a tile as
/// alone, and the integer sums are exact on every path, so tiles, decode rows and instruction sets agree bit for bit.
/// </summary>
static unsafe partial class MatMul
{
    const int Block = WeightMatrix.Int8Block, Int8TileRows = 4;

    [ThreadStatic] static byte[]? t_quantized; // the calling thread's quantised activations and their scales
    [ThreadStatic] static byte[]? t_flipped; // the calling thread's quantised activations + 128, for AVX-VNNI tiles

    /// <summary>
    /// Quantises the job's rows × k activations into the calling thread's scratch: [rows, blocks·32] bytes
    /// (<see cref="Job.XQ"/>), [rows, blocks] scales (<see cref="Job.XScales"/>) and, with <paramref name="flip"/>,
    /// the same bytes + 128 for the AVX-VNNI tiles (<see cref="Job.XU"/>), written in the same pass. Rows are split
    /// across the workers when there are many (the metric learner's 896): each row's bytes are its own either way.
    /// </summary>
    static void QuantizeActivations(Job* job, bool flip)
    {
        int rows = job->Rows, blocks = job->Blocks;
        long bytes = (long)rows * blocks * Block, length = bytes + (long)rows * blocks * sizeof(float) + 64;
        if (length > Array.MaxLength) throw new PldrException($"{rows} rows of {job->In} activations are too many to quantise at once");
        if (t_quantized is null || t_quantized.Length < length) t_quantized = GC.AllocateArray<byte>((int)length, pinned: true);
        byte* start = (byte*)Unsafe.AsPointer(ref t_quantized[0]);
        job->XQ = (sbyte*)(start + (64 - (nint)start % 64) % 64);
        job->XScales = (float*)(job->XQ + bytes);
        job->XU = null;
        if (flip)
        {
            if (t_flipped is null || t_flipped.Length < bytes) t_flipped = GC.AllocateArray<byte>((int)bytes, pinned: true);
            job->XU = (byte*)Unsafe.AsPointer(ref t_flipped[0]);
        }
        if ((long)rows * blocks < 256) QuantizeRows(job, 0, rows); // not worth waking the workers
        else CpuWorkers.Shared.For(rows, 1, &QuantizeRows, job);
    }

    static void QuantizeRows(void* state, int first, int end)
    {
        var job = (Job*)state;
        int k = job->In, blocks = job->Blocks;
        float* padded = stackalloc float[Block];
        for (int r = first; r < end; r++)
            for (int b = 0; b < blocks; b++)
            {
                float* source = job->X + (long)r * k + b * Block;
                int valid = Math.Min(Block, k - b * Block);
                if (valid < Block) // the last block of a row, padded with zeros
                {
                    for (int i = 0; i < Block; i++) padded[i] = i < valid ? source[i] : 0;
                    source = padded;
                }
                long at = (long)r * blocks + b;
                job->XScales[at] = QuantizeBlock(source, job->XQ + at * Block, job->XU is null ? null : job->XU + at * Block);
            }
    }

    /// <summary>32 floats to round(x / d), d = max|x| / 127, and (where <paramref name="flipped"/> is given) the same
    /// bytes with the sign bit flipped; returns d.</summary>
    static float QuantizeBlock(float* x, sbyte* q, byte* flipped)
    {
        var v0 = Vector256.Load(x); var v1 = Vector256.Load(x + 8); var v2 = Vector256.Load(x + 16); var v3 = Vector256.Load(x + 24);
        var max = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
        var half = Vector128.Max(max.GetLower(), max.GetUpper());
        half = Vector128.Max(half, Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1)));
        float amax = MathF.Max(half.ToScalar(), half.GetElement(1));
        float d = amax / 127, inverse = amax == 0 ? 0 : 127 / amax;
        var scale = Vector256.Create(inverse);
        var low = Narrow(Vector256.Round(v0 * scale), Vector256.Round(v1 * scale));
        var high = Narrow(Vector256.Round(v2 * scale), Vector256.Round(v3 * scale));
        low.Store(q);
        high.Store(q + 16);
        if (flipped is not null)
        {
            (low.AsByte() ^ Vector128.Create((byte)0x80)).Store(flipped);
            (high.AsByte() ^ Vector128.Create((byte)0x80)).Store(flipped + 16);
        }
        return d;
    }

    /// <summary>16 whole floats in [−127, 127] as bytes.</summary>
    static Vector128<sbyte> Narrow(Vector256<float> a, Vector256<float> b)
    {
        var shorts = Vector256.Narrow(Vector256.ConvertToInt32(a), Vector256.ConvertToInt32(b));
        return Vector128.Narrow(shorts.GetLower(), shorts.GetUpper());
    }

    /// <summary>Panel p of an int8 matrix for input rows [first, last): tiles of 4 rows, then single rows.</summary>
    static void Int8Panel(Job* job, int p, int first, int last, float* sums)
    {
        int o = p * Width, valid = Math.Min(Width, job->Out - o), blocks = job->Blocks, stride = blocks * Block;
        sbyte* w = job->WInt8 + p * job->PanelSize;
        float* ws = job->Scales + (long)p * blocks * Width;
        int t = first;
        if (job->Int8 != Int8Kernel.Portable) // a row's bits are the same in a tile as alone, so batched decode tiles too
            for (; t + Int8TileRows <= last; t += Int8TileRows)
            {
                sbyte* xq = job->XQ + (long)t * stride;
                float* xs = job->XScales + (long)t * blocks;
                if (job->Int8 == Int8Kernel.AvxVnni) Int8TileVnni(job->XU + (long)t * stride, xs, stride, w, ws, job->BlockSums + (long)p * blocks * Width, blocks, sums);
                else Int8Tile<Avx2Dot>(xq, xs, stride, w, ws, blocks, sums);
                for (int r = 0; r < Int8TileRows; r++) StorePanel(job, t + r, p, sums + r * Width);
            }
        for (; t < last; t++)
        {
            sbyte* xq = job->XQ + (long)t * stride;
            float* xs = job->XScales + (long)t * blocks;
            switch (job->Int8)
            {
                case Int8Kernel.AvxVnni: Int8Row<VnniDot>(xq, xs, w, ws, blocks, sums); break;
                case Int8Kernel.Avx2: Int8Row<Avx2Dot>(xq, xs, w, ws, blocks, sums); break;
                default: Int8RowPortable(xq, xs, w, ws, blocks, sums); break;
            }
            Store(sums, valid, job->Bias, o, job->Y + (long)t * job->Out + o);
        }
    }

    /// <summary>The best int8 kernel this CPU runs.</summary>
    internal static Int8Kernel BestInt8Kernel { get; } =
        AvxVnni.IsSupported && Fma.IsSupported ? Int8Kernel.AvxVnni : Avx2.IsSupported && Fma.IsSupported ? Int8Kernel.Avx2 : Int8Kernel.Portable;

    /// <summary>acc + Σ over 4 inputs of |x|·(w with x's sign), for 8 outputs (8 int32 lanes); a struct type argument
    /// gets its own compiled kernel, so this is inlined.</summary>
    interface IInt8Dot
    {
        static abstract Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> xAbs, Vector256<sbyte> xSigned, Vector256<sbyte> w);
    }

    struct Avx2Dot : IInt8Dot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> xAbs, Vector256<sbyte> xSigned, Vector256<sbyte> w) =>
            acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(xAbs, Avx2.Sign(w, xSigned)), Vector256.Create((short)1));
    }

    struct VnniDot : IInt8Dot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Accumulate(Vector256<int> acc, Vector256<byte> xAbs, Vector256<sbyte> xSigned, Vector256<sbyte> w) =>
            AvxVnni.MultiplyWideningAndAdd(acc, xAbs, Avx2.Sign(w, xSigned));
    }

    /// <summary>y[0..16) = x·W[panel]ᵀ for one quantised row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Int8Row<TDot>(sbyte* xq, float* xs, sbyte* w, float* ws, int blocks, float* y) where TDot : struct, IInt8Dot
    {
        Vector256<float> f0 = default, f1 = default;
        for (int b = 0; b < blocks; b++, xq += Block, w += Block * Width, ws += Width)
        {
            Vector256<int> a0 = default, a1 = default;
            for (int g = 0; g < Block / 4; g++)
            {
                var xSigned = Vector256.Create(*(int*)(xq + 4 * g)).AsSByte();
                var xAbs = Avx2.Abs(xSigned);
                a0 = TDot.Accumulate(a0, xAbs, xSigned, Vector256.Load(w + 64 * g));
                a1 = TDot.Accumulate(a1, xAbs, xSigned, Vector256.Load(w + 64 * g + 32));
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
    static void Int8Tile<TDot>(sbyte* xq, float* xs, int stride, sbyte* w, float* ws, int blocks, float* y) where TDot : struct, IInt8Dot
    {
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
                a00 = TDot.Accumulate(a00, u, s, w0); a01 = TDot.Accumulate(a01, u, s, w1);
                s = Vector256.Create(*(int*)(x1 + at)).AsSByte(); u = Avx2.Abs(s);
                a10 = TDot.Accumulate(a10, u, s, w0); a11 = TDot.Accumulate(a11, u, s, w1);
                s = Vector256.Create(*(int*)(x2 + at)).AsSByte(); u = Avx2.Abs(s);
                a20 = TDot.Accumulate(a20, u, s, w0); a21 = TDot.Accumulate(a21, u, s, w1);
                s = Vector256.Create(*(int*)(x3 + at)).AsSByte(); u = Avx2.Abs(s);
                a30 = TDot.Accumulate(a30, u, s, w0); a31 = TDot.Accumulate(a31, u, s, w1);
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

    /// <summary>
    /// <see cref="Int8Tile{TDot}"/> with AVX-VNNI: vpdpbusd multiplies unsigned by signed bytes and sums 4 products into
    /// int32 without saturating, so x + 128 (x's sign bit flipped, once per product by <see cref="QuantizeActivations"/>) goes in
    /// unchanged and 128·Σw of the block comes off afterwards: one instruction per 8 outputs × 4 inputs × 1 row, and a
    /// broadcast straight from memory per 4 inputs × 1 row. The block sums are exact, as on every path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Int8TileVnni(byte* xu, float* xs, int stride, sbyte* w, float* ws, int* sumsOfW, int blocks, float* y)
    {
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default;
        Vector256<float> f20 = default, f21 = default, f30 = default, f31 = default;
        byte* x1 = xu + stride, x2 = xu + 2 * stride, x3 = xu + 3 * stride;
        for (int b = 0; b < blocks; b++, w += Block * Width, ws += Width, sumsOfW += Width)
        {
            Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default;
            Vector256<int> a20 = default, a21 = default, a30 = default, a31 = default;
            int at = b * Block;
            for (int g = 0; g < Block / 4; g++, at += 4)
            {
                var w0 = Vector256.Load(w + 64 * g);
                var w1 = Vector256.Load(w + 64 * g + 32);
                var u = Vector256.Create(*(int*)(xu + at)).AsByte();
                a00 = AvxVnni.MultiplyWideningAndAdd(a00, u, w0); a01 = AvxVnni.MultiplyWideningAndAdd(a01, u, w1);
                u = Vector256.Create(*(int*)(x1 + at)).AsByte();
                a10 = AvxVnni.MultiplyWideningAndAdd(a10, u, w0); a11 = AvxVnni.MultiplyWideningAndAdd(a11, u, w1);
                u = Vector256.Create(*(int*)(x2 + at)).AsByte();
                a20 = AvxVnni.MultiplyWideningAndAdd(a20, u, w0); a21 = AvxVnni.MultiplyWideningAndAdd(a21, u, w1);
                u = Vector256.Create(*(int*)(x3 + at)).AsByte();
                a30 = AvxVnni.MultiplyWideningAndAdd(a30, u, w0); a31 = AvxVnni.MultiplyWideningAndAdd(a31, u, w1);
            }
            var c0 = Vector256.ShiftLeft(Vector256.Load(sumsOfW), 7);
            var c1 = Vector256.ShiftLeft(Vector256.Load(sumsOfW + 8), 7);
            var s0 = Vector256.Load(ws);
            var s1 = Vector256.Load(ws + 8);
            var d = Vector256.Create(xs[b]);
            f00 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a00 - c0), s0 * d, f00); f01 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a01 - c1), s1 * d, f01);
            d = Vector256.Create(xs[blocks + b]);
            f10 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a10 - c0), s0 * d, f10); f11 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a11 - c1), s1 * d, f11);
            d = Vector256.Create(xs[2 * blocks + b]);
            f20 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a20 - c0), s0 * d, f20); f21 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a21 - c1), s1 * d, f21);
            d = Vector256.Create(xs[3 * blocks + b]);
            f30 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a30 - c0), s0 * d, f30); f31 = Fma.MultiplyAdd(Vector256.ConvertToSingle(a31 - c1), s1 * d, f31);
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

/// <summary>The int8 product kernels, by the instructions they need.</summary>
enum Int8Kernel
{
    /// <summary>Plain loops, any CPU.</summary>
    Portable,
    /// <summary>AVX2 + FMA: vpmaddubsw and vpmaddwd (x86-64-v3).</summary>
    Avx2,
    /// <summary>AVX-VNNI: vpdpbusd, 4 products and the sum in one instruction (Alder Lake, Sapphire Rapids, Zen 5).</summary>
    AvxVnni,
}
