using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// y[t, o] = Σ_k x[t, k]·W[o, k] + b[o] with W packed in panels of 16 outputs (<see cref="WeightMatrix"/>), split
/// over panels across <see cref="CpuWorkers"/>. Each x[t, k] is broadcast and multiplied into the 16 weights of
/// input k, so outputs accumulate in vector registers with no horizontal sums. One input row (decode) streams each
/// panel once: a bandwidth-bound matrix-vector product, one Vector512 per 16 outputs where AVX-512 is there, asking
/// for its weights a few KB ahead of the hardware prefetcher. Several rows (prefill) run in register tiles of rows ×
/// panels (MatMul.Gemm.cs); a 16-bit panel is first widened once into a float32 panel that every tile then reuses.
/// Int8 weights multiply int8 activations (MatMul.Int8.cs).
/// </summary>
static unsafe partial class MatMul
{
    struct Job
    {
        public float* X, Bias, Y;
        public float* W; public ushort* W16; public sbyte* WInt8; public float* Scales;
        public sbyte* XQ; public float* XScales; public int* BlockSums; // int8: the quantised input rows, Σw per block
        public byte* XU; // int8 with AVX-VNNI tiles: the quantised rows + 128 (MatMul.Int8.cs, QuantizeActivations)
        public int Rows, In, Out, Blocks;
        public long PanelSize;
        public bool RowByRow, Half; // Half: W16 holds IEEE halves, else bfloat16
        public Int8Kernel Int8;
    }

    const int Width = WeightMatrix.PanelWidth, TileRows = 6;

    [ThreadStatic] static float[]? t_widened; // per worker: a 16-bit panel group widened for prefill tiles
    [ThreadStatic] static float[]? t_widenedUp; // per worker: the up projection's beside it in a gated product

    /// <summary>
    /// y = x·Wᵀ + bias for <paramref name="rows"/> rows. With <paramref name="rowByRow"/>, every row is computed as a
    /// decode step computes a row alone (MatMul.Rows.cs; int8 tiles already are): its bits do not depend on the other
    /// rows, which batched decode needs, and each panel is still read from memory once for all of them. <paramref name="int8"/> picks an int8
    /// kernel other than the best this CPU has (for tests).
    /// </summary>
    public static void Linear(ReadOnlySpan<float> x, int rows, WeightMatrix w, float[]? bias, Span<float> y, bool rowByRow = false,
        Int8Kernel? int8 = null)
    {
        fixed (float* px = x, pb = bias, py = y)
        {
            var job = NewJob(px, pb, py, rows, w, rowByRow, int8);
            Products(&job, 1);
        }
        GC.KeepAlive(w); // the kernels held raw pointers into its native panels
    }

    /// <summary>
    /// y_i = x·W_iᵀ + b_i for two or three matrices of one input x (Q, K and V; a GLU's W1 and W2), each product's
    /// bits those of <see cref="Linear"/> alone. Int8 quantises x once for all of them; a decode step runs their panels as one parallel loop, so the
    /// workers wake and wait once, not once per product (a 896×896 product alone streams ~25% below a large one).
    /// </summary>
    public static void LinearEach(ReadOnlySpan<float> x, int rows, bool rowByRow,
        WeightMatrix w0, float[]? b0, Span<float> y0, WeightMatrix w1, float[]? b1, Span<float> y1,
        WeightMatrix? w2 = null, float[]? b2 = null, Span<float> y2 = default)
    {
        if (w0.Cols != w1.Cols || w2 is not null && w2.Cols != w0.Cols) throw new ArgumentException("LinearEach: products of one input need one input width");
        fixed (float* px = x, pb0 = b0, py0 = y0, pb1 = b1, py1 = y1, pb2 = b2, py2 = y2)
        {
            Job* jobs = stackalloc Job[3];
            jobs[0] = NewJob(px, pb0, py0, rows, w0, rowByRow, int8: null);
            jobs[1] = NewJob(px, pb1, py1, rows, w1, rowByRow, int8: null);
            if (w2 is not null) jobs[2] = NewJob(px, pb2, py2, rows, w2, rowByRow, int8: null);
            Products(jobs, w2 is null ? 2 : 3);
        }
        GC.KeepAlive(w0);
        GC.KeepAlive(w1);
        GC.KeepAlive(w2);
    }

    /// <summary>The products of <paramref name="count"/> jobs that share one input (their X, Rows and In).</summary>
    static void Products(Job* jobs, int count)
    {
        Job* quantized = null;
        for (int i = 0; i < count; i++)
        {
            Job* job = jobs + i;
            if (job->WInt8 is null) continue;
            if (quantized is null)
            {
                QuantizeActivations(job, flip: job->Int8 == Int8Kernel.AvxVnni && job->Rows >= Int8TileRows);
                quantized = job;
            }
            else
            {
                job->XQ = quantized->XQ;
                job->XScales = quantized->XScales;
                job->XU = quantized->XU;
            }
        }
        if (jobs->Rows > 1 && !jobs->RowByRow) // prefill: MatMul.Gemm.cs
        {
            for (int i = 0; i < count; i++) Gemm(jobs + i, PanelCount(jobs + i));
            return;
        }
        var set = new ProductSet { Jobs = jobs, Count = count };
        int panels = 0;
        long work = 0;
        for (int i = 0; i < count; i++)
        {
            panels += PanelCount(jobs + i);
            work += (long)jobs[i].Rows * jobs[i].Out * jobs[i].In;
        }
        if (work < 1 << 16) ProductPanels(&set, 0, panels); // not worth waking the workers
        else CpuWorkers.Shared.For(panels, InPairs(jobs) ? PairPanels : 1, &ProductPanels, &set);
    }

    struct ProductSet
    {
        public Job* Jobs;
        public int Count;
    }

    static int PanelCount(Job* job) => (job->Out + Width - 1) / Width;

    /// <summary>Panels [start, end) of the products one after the other.</summary>
    static void ProductPanels(void* state, int start, int end)
    {
        var set = (ProductSet*)state;
        for (int i = 0, first = 0; i < set->Count && first < end; i++)
        {
            Job* job = set->Jobs + i;
            int last = first + PanelCount(job);
            if (start < last)
            {
                int from = Math.Max(start, first) - first, to = Math.Min(end, last) - first;
                if (InPairs(job)) RowPanels(job, from, to); // batched decode (MatMul.Rows.cs)
                else Panels(job, from, to);
            }
            first = last;
        }
    }

    /// <summary>A product's pointers and sizes; the int8 kernel is the best this CPU has unless <paramref name="int8"/> says.</summary>
    static Job NewJob(float* x, float* bias, float* y, int rows, WeightMatrix w, bool rowByRow, Int8Kernel? int8) =>
        new()
        {
            X = x, Bias = bias, Y = y, Rows = rows, In = w.Cols, Out = w.Rows, PanelSize = w.PanelSize, RowByRow = rowByRow,
            W = w.Precision == WeightPrecision.Float32 ? w.Float32Pointer : null,
            W16 = w.Precision is WeightPrecision.BFloat16 or WeightPrecision.Float16 ? w.Bits16Pointer : null,
            Half = w.Precision == WeightPrecision.Float16,
            WInt8 = w.Precision == WeightPrecision.Int8 ? w.Int8Pointer : null,
            Scales = w.Precision == WeightPrecision.Int8 ? w.ScalesPointer : null,
            BlockSums = w.Precision == WeightPrecision.Int8 ? w.BlockSumsPointer : null,
            Blocks = w.Blocks, Int8 = int8 ?? BestInt8Kernel,
        };

    /// <summary>Panels [start, end) for a decode row, or for every row of an int8 product (batched float rows go in
    /// panel pairs, MatMul.Rows.cs).</summary>
    static void Panels(void* state, int start, int end)
    {
        var job = (Job*)state;
        float* tile = stackalloc float[Math.Max(Int8TileRows, PassRows) * Width]; // a row's panel or an int8 tile (prefill tiles are MatMul.Gemm.cs')
        for (int p = start; p < end; p++)
        {
            if (job->WInt8 is not null)
            {
                Int8Panel(job, p, 0, job->Rows, tile);
                continue;
            }
            RowsAsAlone(job, p, tile); // a decode row (MatMul.Rows.cs)
        }
    }

    /// <summary>The panel's valid outputs (the last panel may hold fewer than 16), plus the bias.</summary>
    static void Store(float* sums, int valid, float* bias, int o, float* y)
    {
        for (int j = 0; j < valid; j++) y[j] = sums[j] + (bias is null ? 0 : bias[o + j]);
    }

    /// <summary>
    /// y[0..16) = x·W[panel]ᵀ for one input row: even and odd inputs in two pairs of accumulators, summed at the end
    /// (the bfloat16 and int8 twins do the same). <see cref="Rows3"/> and <see cref="Rows2"/> repeat this arithmetic
    /// for several rows at once: keep them in step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row(float* x, float* w, int k, float* y)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Row512(x, w, k, y);
            return;
        }
        Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default;
        int i = 0;
        for (; i + 2 <= k; i += 2, w += 2 * Width)
        {
            PrefetchAhead(w); PrefetchAhead(w + Width);
            var x0 = Vector256.Create(x[i]); var x1 = Vector256.Create(x[i + 1]);
            a0 = Vector256.FusedMultiplyAdd(x0, Vector256.Load(w), a0); a1 = Vector256.FusedMultiplyAdd(x0, Vector256.Load(w + 8), a1);
            b0 = Vector256.FusedMultiplyAdd(x1, Vector256.Load(w + 16), b0); b1 = Vector256.FusedMultiplyAdd(x1, Vector256.Load(w + 24), b1);
        }
        if (i < k)
        {
            var x0 = Vector256.Create(x[i]);
            a0 = Vector256.FusedMultiplyAdd(x0, Vector256.Load(w), a0); a1 = Vector256.FusedMultiplyAdd(x0, Vector256.Load(w + 8), a1);
        }
        (a0 + b0).Store(y);
        (a1 + b1).Store(y + 8);
    }

    // How far ahead a decode row asks for its weights: the hardware prefetcher alone leaves a 16-bit row at ~2/3 of
    // the float32 row's bytes per second on one core (kernels 1: f16 6.3 GB/s, 9.7 GB/s with this; 1–16 KB alike).
    const int PrefetchBytes = 4096;

    /// <summary>Asks for the cache line <see cref="PrefetchBytes"/> past p (a hint: no fault past the array's end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PrefetchAhead(void* p)
    {
        if (Sse.IsSupported) Sse.Prefetch0((byte*)p + PrefetchBytes);
    }

    /// <summary><see cref="Row"/> with one Vector512 per 16 outputs: lane j does what lane j of a0/a1 (even inputs)
    /// and b0/b1 (odd inputs) do there, so the sums are the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row512(float* x, float* w, int k, float* y)
    {
        Vector512<float> a = default, b = default;
        int i = 0;
        for (; i + 2 <= k; i += 2, w += 2 * Width)
        {
            PrefetchAhead(w); PrefetchAhead(w + Width);
            a = Vector512.FusedMultiplyAdd(Vector512.Create(x[i]), Vector512.Load(w), a);
            b = Vector512.FusedMultiplyAdd(Vector512.Create(x[i + 1]), Vector512.Load(w + Width), b);
        }
        if (i < k) a = Vector512.FusedMultiplyAdd(Vector512.Create(x[i]), Vector512.Load(w), a);
        (a + b).Store(y);
    }

    /// <summary>The 16-bit twin: the 16 weights of an input are 32 bytes, widened in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row<TBits>(float* x, ushort* w, int k, float* y) where TBits : struct, IBits16
    {
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            Row512<TBits>(x, w, k, y);
            return;
        }
        Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default;
        int i = 0;
        for (; i + 2 <= k; i += 2, w += 2 * Width)
        {
            PrefetchAhead(w);
            var x0 = Vector256.Create(x[i]); var x1 = Vector256.Create(x[i + 1]);
            var (w0, w1) = TBits.Widen(w);
            var (w2, w3) = TBits.Widen(w + Width);
            a0 = Vector256.FusedMultiplyAdd(x0, w0, a0); a1 = Vector256.FusedMultiplyAdd(x0, w1, a1);
            b0 = Vector256.FusedMultiplyAdd(x1, w2, b0); b1 = Vector256.FusedMultiplyAdd(x1, w3, b1);
        }
        if (i < k)
        {
            var x0 = Vector256.Create(x[i]);
            var (w0, w1) = TBits.Widen(w);
            a0 = Vector256.FusedMultiplyAdd(x0, w0, a0); a1 = Vector256.FusedMultiplyAdd(x0, w1, a1);
        }
        (a0 + b0).Store(y);
        (a1 + b1).Store(y + 8);
    }

    /// <summary>
    /// <see cref="Row{TBits}"/> with one Vector512 per input's 16 weights, widened in the panel's lane order
    /// (<see cref="WeightMatrix.Lane16"/>): each lane still does one output's even and odd sums as the Vector256
    /// twin does, and one permutation per panel puts the outputs back in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row512<TBits>(float* x, ushort* w, int k, float* y) where TBits : struct, IBits16
    {
        Vector512<float> a = default, b = default;
        int i = 0;
        for (; i + 2 <= k; i += 2, w += 2 * Width)
        {
            PrefetchAhead(w);
            a = Vector512.FusedMultiplyAdd(Vector512.Create(x[i]), TBits.Widen512(w), a);
            b = Vector512.FusedMultiplyAdd(Vector512.Create(x[i + 1]), TBits.Widen512(w + Width), b);
        }
        if (i < k) a = Vector512.FusedMultiplyAdd(Vector512.Create(x[i]), TBits.Widen512(w), a);
        Avx512F.PermuteVar16x32(a + b, Vector512.Create(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15)).Store(y);
    }

    static float* Scratch(ref float[]? buffer, int k, int panels)
    {
        int length = panels * k * Width;
        if (buffer is null || buffer.Length < length) buffer = GC.AllocateArray<float>(length, pinned: true);
        return (float*)Unsafe.AsPointer(ref buffer[0]);
    }

    /// <summary>y[r, 0..16) = x[r]·W[panel]ᵀ for six input rows: each input's 16 weights meet six broadcasts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile(float* x, int k, float* w, float* y)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k, x4 = x + 4 * k, x5 = x + 5 * k;
        for (int i = 0; i < k; i++, w += Width)
        {
            var w0 = Vector256.Load(w);
            var w1 = Vector256.Load(w + 8);
            var a = Vector256.Create(x[i]);
            c00 = Vector256.FusedMultiplyAdd(a, w0, c00); c01 = Vector256.FusedMultiplyAdd(a, w1, c01);
            a = Vector256.Create(x1[i]);
            c10 = Vector256.FusedMultiplyAdd(a, w0, c10); c11 = Vector256.FusedMultiplyAdd(a, w1, c11);
            a = Vector256.Create(x2[i]);
            c20 = Vector256.FusedMultiplyAdd(a, w0, c20); c21 = Vector256.FusedMultiplyAdd(a, w1, c21);
            a = Vector256.Create(x3[i]);
            c30 = Vector256.FusedMultiplyAdd(a, w0, c30); c31 = Vector256.FusedMultiplyAdd(a, w1, c31);
            a = Vector256.Create(x4[i]);
            c40 = Vector256.FusedMultiplyAdd(a, w0, c40); c41 = Vector256.FusedMultiplyAdd(a, w1, c41);
            a = Vector256.Create(x5[i]);
            c50 = Vector256.FusedMultiplyAdd(a, w0, c50); c51 = Vector256.FusedMultiplyAdd(a, w1, c51);
        }
        c00.Store(y); c01.Store(y + 8); c10.Store(y + 16); c11.Store(y + 24); c20.Store(y + 32); c21.Store(y + 40);
        c30.Store(y + 48); c31.Store(y + 56); c40.Store(y + 64); c41.Store(y + 72); c50.Store(y + 80); c51.Store(y + 88);
    }

    /// <summary>16-bit panels (<paramref name="panels"/> of them, <paramref name="panelSize"/> apart) widened one after
    /// another into this thread's float32 scratch (allocated once per thread and size; the gated product's up
    /// projection widens into a second one).</summary>
    static float* Widen<TBits>(ushort* w, int k, int panels = 1, long panelSize = 0, bool up = false) where TBits : struct, IBits16
    {
        float* destination = up ? Scratch(ref t_widenedUp, k, panels) : Scratch(ref t_widened, k, panels), to = destination;
        for (int q = 0; q < panels; q++, w += panelSize)
            for (int i = 0; i < k; i++, to += Width)
            {
                var (lower, upper) = TBits.Widen(w + i * Width);
                lower.Store(to);
                upper.Store(to + 8);
            }
        return destination;
    }

    /// <summary>How 16 weights of 16 bits become two float32 vectors (lanes 0..7 and 8..15); a struct type argument
    /// gets its own compiled kernel, so the widening is inlined.</summary>
    interface IBits16
    {
        static abstract (Vector256<float>, Vector256<float>) Widen(ushort* p);

        /// <summary>The 16 values as float32 in the panel's lane order (AVX-512 only).</summary>
        static abstract Vector512<float> Widen512(ushort* p);
    }

    /// <summary>bfloat16 is a float32's upper half: a 16-bit shift.</summary>
    struct BFloat16Bits : IBits16
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<float>, Vector256<float>) Widen(ushort* p)
        {
            var (lower, upper) = Unpack(p);
            return (lower.AsSingle(), upper.AsSingle());
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Widen512(ushort* p) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector256.Load(p)), 16).AsSingle();
    }

    /// <summary>16 values of 16 bits, each in the upper half of a 32-bit lane (the panel's order,
    /// <see cref="WeightMatrix.Lane16"/>, makes these outputs 0..7 and 8..15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<int>, Vector256<int>) Unpack(ushort* p)
    {
        var bits = Vector256.Load(p);
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            return (System.Runtime.Intrinsics.X86.Avx2.UnpackLow(Vector256<ushort>.Zero, bits).AsInt32(),
                System.Runtime.Intrinsics.X86.Avx2.UnpackHigh(Vector256<ushort>.Zero, bits).AsInt32());
        var (lower, upper) = Vector256.Widen(Vector256.Shuffle(bits, Vector256.Create((ushort)0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15)));
        return (Vector256.ShiftLeft(lower, 16).AsInt32(), Vector256.ShiftLeft(upper, 16).AsInt32());
    }

    /// <summary>
    /// IEEE half without F16C (which .NET does not expose): in a float32's top bits, an arithmetic shift by 3
    /// lines sign, exponent and mantissa up with a float32's (the sign copied into three exponent bits, then
    /// cleared), and × 2^112 moves the exponent bias from 15 to 127. Exact for normal and subnormal halves; loading
    /// refuses infinities and NaN.
    /// </summary>
    struct HalfBits : IBits16
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<float>, Vector256<float>) Widen(ushort* p)
        {
            var (lower, upper) = Unpack(p);
            return (ToSingle(lower), ToSingle(upper));
        }

        /// <summary>Sign-extended to 32 bits and shifted left by 13: the same bits as the half on top shifted right by 3.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Widen512(ushort* p)
        {
            var aligned = Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p)), 13);
            return (aligned & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector512.Create(Rebias);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<float> ToSingle(Vector256<int> halfOnTop)
        {
            var aligned = Vector256.ShiftRightArithmetic(halfOnTop, 3);
            return (aligned & Vector256.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector256.Create(Rebias);
        }

        const float Rebias = 5.192296858534828e33f; // 2^112, exactly
    }
}
