using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// Several decode rows against the panels (batched decode), each row's sums bit for bit those of <c>Row</c> alone, so
/// a sequence's logits do not depend on its batch. Float32 panels go several rows at a time: each weight load meets
/// every row's broadcast, in <c>Row</c>'s accumulator order, so n rows cost one pass over the panel instead of n.
/// With AVX-512 the workers take panels in pairs and a Vector512 holds a panel row (16 outputs), doing per lane what
/// <c>Row</c>'s Vector256 pair does: up to six rows × two panels × (even, odd inputs) in 24 accumulators, so each
/// broadcast meets two panels' weights and the fused multiply-adds, not the loads, set the pace. Without AVX-512,
/// three rows of Vector256 pairs (twelve of 16 registers) against one panel. A bfloat16 panel, widened once
/// (exactly) into float32, runs the same way and matches its own <c>Row</c>, whose order is the float32 one; an
/// IEEE-half panel likewise. Int8 rows use the int8 tiles, whose integer sums are exact and whose float32 steps per
/// row are a lone row's (MatMul.Int8.cs).
/// </summary>
static unsafe partial class MatMul
{
    const int WidenForRows = 4; // below this many rows, widening a bfloat16 panel costs more than it saves
    const int PairRows = 6;     // the most rows one AVX-512 pass computes against a panel pair (24 accumulators)
    const int PairPanels = 2;   // the workers' grain for batched rows: register tiles span two panels
    const int PassRows = 3;     // the most rows a Vector256 pass stores (Rows3)

    /// <summary>Whether a decode product runs in <see cref="RowPanels"/>: batched rows of float32 or 16-bit weights.</summary>
    static bool InPairs(Job* job) => job->Rows > 1 && job->WInt8 is null;

    /// <summary>Panels [start, end) for every row of a batched decode step (<see cref="InPairs"/>).</summary>
    static void RowPanels(void* state, int start, int end)
    {
        var job = (Job*)state;
        float* tile = stackalloc float[PairRows * PairPanels * Width];
        int p = start;
        if (Vector512.IsHardwareAccelerated && (job->W is not null || job->Rows >= WidenForRows))
            for (; p < end; p += PairPanels) PanelPair(job, p, Math.Min(PairPanels, end - p), p == start, end, tile);
        for (; p < end; p++) RowsAsAlone(job, p, tile);
    }

    /// <summary>
    /// Every row against panels p and p + 1 (or p alone, run as a pair with itself and kept once), in as few passes of
    /// at most six rows as there can be, of balanced sizes. The weights come from memory once and the passes find them
    /// in the cache, so memory would idle after the first pass: every pass asks, at an even pace, for its share of the
    /// next pair in the worker's chunk (up to <paramref name="end"/>), and the chunk's first pair (or a single pass)
    /// asks for its own weights a little ahead as <c>Row</c> does.
    /// </summary>
    static void PanelPair(Job* job, int p, int panels, bool firstPair, int end, float* tile)
    {
        int k = job->In, rows = job->Rows;
        long stride = job->PanelSize;
        int passes = (rows + PairRows - 1) / PairRows;
        // Each pass asks for its share of the next pair's weights: two prefetches per input pair, step bytes apart
        long panelBytes = stride * (job->W is not null ? sizeof(float) : sizeof(ushort)), share = PairPanels * panelBytes / passes;
        byte* next = passes > 1 && p + PairPanels < end ? (job->W is not null ? (byte*)job->W : (byte*)job->W16) + (p + PairPanels) * panelBytes : null;
        int step = (int)(share / k); // ≤ 64 bytes with two passes or more: no line skipped
        float* w = job->W is not null ? job->W + p * stride
            : job->Half ? Widen<HalfBits>(job->W16 + p * stride, k, panels, stride)
            : Widen<BFloat16Bits>(job->W16 + p * stride, k, panels, stride);
        if (job->W is null) stride = (long)k * Width; // the widened copies lie one after another
        if (panels == 1) stride = 0;
        for (int pass = 0, r = 0; pass < passes; pass++, next += next is null ? 0 : share)
        {
            int count = (rows - r) / (passes - pass); // 2..6: rows ≥ 2, and a pass of a split takes more than 3
            float* x = job->X + (long)r * k;
            bool first = pass == 0 && (firstPair || passes == 1);
            switch (count)
            {
                case 6: PairRows512<Six>(x, k, w, stride, tile, first, next, step); break;
                case 5: PairRows512<Five>(x, k, w, stride, tile, first, next, step); break;
                case 4: PairRows512<Four>(x, k, w, stride, tile, first, next, step); break;
                case 3: PairRows512<Three>(x, k, w, stride, tile, first, next, step); break;
                default: PairRows512<Two>(x, k, w, stride, tile, first, next, step); break;
            }
            for (int i = 0; i < count; i++)
                for (int q = 0; q < panels; q++)
                {
                    int o = (p + q) * Width;
                    Store(tile + (PairPanels * i + q) * Width, Math.Min(Width, job->Out - o), job->Bias, o, job->Y + (long)(r + i) * job->Out + o);
                }
            r += count;
        }
    }

    /// <summary>A lone panel's rows: Vector256 passes of three and two rows where AVX-512 is not there, else (a
    /// decode step, or a 16-bit panel under <see cref="WidenForRows"/> rows) each row as <c>Row</c>.</summary>
    static void RowsAsAlone(Job* job, int p, float* tile)
    {
        int k = job->In, rows = job->Rows, o = p * Width, r = 0;
        ushort* w16 = job->W16 is null ? null : job->W16 + p * job->PanelSize;
        float* w = job->W is not null ? job->W + p * job->PanelSize
            : w16 is null || rows < WidenForRows || Vector512.IsHardwareAccelerated ? null
            : job->Half ? Widen<HalfBits>(w16, k) : Widen<BFloat16Bits>(w16, k);
        if (w is not null && !Vector512.IsHardwareAccelerated)
        {
            for (; r + 3 <= rows; r += 3)
            {
                Rows3(job->X + (long)r * k, k, w, tile);
                StoreRows(job, r, 3, o, tile);
            }
            for (; r + 2 <= rows; r += 2)
            {
                Rows2(job->X + (long)r * k, k, w, tile);
                StoreRows(job, r, 2, o, tile);
            }
        }
        for (; r < rows; r++)
        {
            float* x = job->X + (long)r * k;
            if (w is not null) Row(x, w, k, tile);
            else if (job->Half) Row<HalfBits>(x, w16, k, tile);
            else Row<BFloat16Bits>(x, w16, k, tile);
            StoreRows(job, r, 1, o, tile);
        }
    }

    /// <summary>Rows [r, r + count) of the tile into y, at this panel's outputs.</summary>
    static void StoreRows(Job* job, int r, int count, int o, float* tile)
    {
        int valid = Math.Min(Width, job->Out - o);
        for (int i = 0; i < count; i++) Store(tile + i * Width, valid, job->Bias, o, job->Y + (long)(r + i) * job->Out + o);
    }

    /// <summary><c>Row</c> for input rows x, x + k, x + 2k into y, y + 16, y + 32: twelve accumulators, two weight registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Rows3(float* x, int k, float* w, float* y)
    {
        Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default; // row 0: even inputs (a), odd (b)
        Vector256<float> c0 = default, c1 = default, d0 = default, d1 = default; // row 1
        Vector256<float> e0 = default, e1 = default, f0 = default, f1 = default; // row 2
        float* x1 = x + k, x2 = x + 2 * k;
        int i = 0;
        for (; i + 2 <= k; i += 2, w += 2 * Width)
        {
            var w0 = Vector256.Load(w); var w1 = Vector256.Load(w + 8);
            var s = Vector256.Create(x[i]);
            a0 = Vector256.FusedMultiplyAdd(s, w0, a0); a1 = Vector256.FusedMultiplyAdd(s, w1, a1);
            s = Vector256.Create(x1[i]);
            c0 = Vector256.FusedMultiplyAdd(s, w0, c0); c1 = Vector256.FusedMultiplyAdd(s, w1, c1);
            s = Vector256.Create(x2[i]);
            e0 = Vector256.FusedMultiplyAdd(s, w0, e0); e1 = Vector256.FusedMultiplyAdd(s, w1, e1);
            w0 = Vector256.Load(w + 16); w1 = Vector256.Load(w + 24);
            s = Vector256.Create(x[i + 1]);
            b0 = Vector256.FusedMultiplyAdd(s, w0, b0); b1 = Vector256.FusedMultiplyAdd(s, w1, b1);
            s = Vector256.Create(x1[i + 1]);
            d0 = Vector256.FusedMultiplyAdd(s, w0, d0); d1 = Vector256.FusedMultiplyAdd(s, w1, d1);
            s = Vector256.Create(x2[i + 1]);
            f0 = Vector256.FusedMultiplyAdd(s, w0, f0); f1 = Vector256.FusedMultiplyAdd(s, w1, f1);
        }
        if (i < k)
        {
            var w0 = Vector256.Load(w); var w1 = Vector256.Load(w + 8);
            var s = Vector256.Create(x[i]);
            a0 = Vector256.FusedMultiplyAdd(s, w0, a0); a1 = Vector256.FusedMultiplyAdd(s, w1, a1);
            s = Vector256.Create(x1[i]);
            c0 = Vector256.FusedMultiplyAdd(s, w0, c0); c1 = Vector256.FusedMultiplyAdd(s, w1, c1);
            s = Vector256.Create(x2[i]);
            e0 = Vector256.FusedMultiplyAdd(s, w0, e0); e1 = Vector256.FusedMultiplyAdd(s, w1, e1);
        }
        (a0 + b0).Store(y); (a1 + b1).Store(y + 8);
        (c0 + d0).Store(y + 16); (c1 + d1).Store(y + 24);
        (e0 + f0).Store(y + 32); (e1 + f1).Store(y + 40);
    }

    /// <summary><c>Row</c> for input rows x and x + k into y and y + 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Rows2(float* x, int k, float* w, float* y)
    {
        Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default;
        Vector256<float> c0 = default, c1 = default, d0 = default, d1 = default;
        float* x1 = x + k;
        int i = 0;
        for (; i + 2 <= k; i += 2, w += 2 * Width)
        {
            var w0 = Vector256.Load(w); var w1 = Vector256.Load(w + 8);
            var s = Vector256.Create(x[i]);
            a0 = Vector256.FusedMultiplyAdd(s, w0, a0); a1 = Vector256.FusedMultiplyAdd(s, w1, a1);
            s = Vector256.Create(x1[i]);
            c0 = Vector256.FusedMultiplyAdd(s, w0, c0); c1 = Vector256.FusedMultiplyAdd(s, w1, c1);
            w0 = Vector256.Load(w + 16); w1 = Vector256.Load(w + 24);
            s = Vector256.Create(x[i + 1]);
            b0 = Vector256.FusedMultiplyAdd(s, w0, b0); b1 = Vector256.FusedMultiplyAdd(s, w1, b1);
            s = Vector256.Create(x1[i + 1]);
            d0 = Vector256.FusedMultiplyAdd(s, w0, d0); d1 = Vector256.FusedMultiplyAdd(s, w1, d1);
        }
        if (i < k)
        {
            var w0 = Vector256.Load(w); var w1 = Vector256.Load(w + 8);
            var s = Vector256.Create(x[i]);
            a0 = Vector256.FusedMultiplyAdd(s, w0, a0); a1 = Vector256.FusedMultiplyAdd(s, w1, a1);
            s = Vector256.Create(x1[i]);
            c0 = Vector256.FusedMultiplyAdd(s, w0, c0); c1 = Vector256.FusedMultiplyAdd(s, w1, c1);
        }
        (a0 + b0).Store(y); (a1 + b1).Store(y + 8);
        (c0 + d0).Store(y + 16); (c1 + d1).Store(y + 24);
    }

    /// <summary>
    /// <c>Row</c> for TRows.Count input rows (x + r·k) against two panels (w and w + stride) into y + (2r + q)·16 with
    /// AVX-512: per row and panel an even-input and an odd-input Vector512, each lane the arithmetic of <c>Row</c>'s
    /// Vector256 pair, so each broadcast of an input meets both panels. With <paramref name="prefetch"/> it asks for
    /// both panels' weights ahead, as <c>Row</c> does (the pass that reads them from memory). The count is a type
    /// argument, so each count compiles to its own kernel without the unused rows' registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PairRows512<TRows>(float* x, int k, float* w, long stride, float* y, bool prefetch, byte* next, int step) where TRows : struct, IRowCount
    {
        int n = TRows.Count;
        // row r: panel 0's even (a) and odd (b) inputs, panel 1's even (c) and odd (d)
        Vector512<float> a0 = default, b0 = default, c0 = default, d0 = default, a1 = default, b1 = default, c1 = default, d1 = default;
        Vector512<float> a2 = default, b2 = default, c2 = default, d2 = default, a3 = default, b3 = default, c3 = default, d3 = default;
        Vector512<float> a4 = default, b4 = default, c4 = default, d4 = default, a5 = default, b5 = default, c5 = default, d5 = default;
        float* x1 = x + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k; // rows past n are never read
        float* v = w + stride;
        int i = 0;
        for (; i + 2 <= k; i += 2, w += 2 * Width, v += 2 * Width)
        {
            if (prefetch)
            {
                PrefetchAhead(w); PrefetchAhead(w + Width); PrefetchAhead(v); PrefetchAhead(v + Width);
            }
            if (next is not null)
            {
                Sse.Prefetch1(next); Sse.Prefetch1(next + step); next += 2 * step;
            }
            var we = Vector512.Load(w); var wo = Vector512.Load(w + Width); var ve = Vector512.Load(v); var vo = Vector512.Load(v + Width);
            { a0 = MulAdd(x[i], we, a0); c0 = MulAdd(x[i], ve, c0); b0 = MulAdd(x[i + 1], wo, b0); d0 = MulAdd(x[i + 1], vo, d0); }
            if (n > 1) { a1 = MulAdd(x1[i], we, a1); c1 = MulAdd(x1[i], ve, c1); b1 = MulAdd(x1[i + 1], wo, b1); d1 = MulAdd(x1[i + 1], vo, d1); }
            if (n > 2) { a2 = MulAdd(x2[i], we, a2); c2 = MulAdd(x2[i], ve, c2); b2 = MulAdd(x2[i + 1], wo, b2); d2 = MulAdd(x2[i + 1], vo, d2); }
            if (n > 3) { a3 = MulAdd(x3[i], we, a3); c3 = MulAdd(x3[i], ve, c3); b3 = MulAdd(x3[i + 1], wo, b3); d3 = MulAdd(x3[i + 1], vo, d3); }
            if (n > 4) { a4 = MulAdd(x4[i], we, a4); c4 = MulAdd(x4[i], ve, c4); b4 = MulAdd(x4[i + 1], wo, b4); d4 = MulAdd(x4[i + 1], vo, d4); }
            if (n > 5) { a5 = MulAdd(x5[i], we, a5); c5 = MulAdd(x5[i], ve, c5); b5 = MulAdd(x5[i + 1], wo, b5); d5 = MulAdd(x5[i + 1], vo, d5); }
        }
        if (i < k) // an odd input count: the last input goes to the even accumulators, as in Row
        {
            var we = Vector512.Load(w); var ve = Vector512.Load(v);
            { a0 = MulAdd(x[i], we, a0); c0 = MulAdd(x[i], ve, c0); }
            if (n > 1) { a1 = MulAdd(x1[i], we, a1); c1 = MulAdd(x1[i], ve, c1); }
            if (n > 2) { a2 = MulAdd(x2[i], we, a2); c2 = MulAdd(x2[i], ve, c2); }
            if (n > 3) { a3 = MulAdd(x3[i], we, a3); c3 = MulAdd(x3[i], ve, c3); }
            if (n > 4) { a4 = MulAdd(x4[i], we, a4); c4 = MulAdd(x4[i], ve, c4); }
            if (n > 5) { a5 = MulAdd(x5[i], we, a5); c5 = MulAdd(x5[i], ve, c5); }
        }
        { (a0 + b0).Store(y); (c0 + d0).Store(y + Width); }
        if (n > 1) { (a1 + b1).Store(y + 2 * Width); (c1 + d1).Store(y + 3 * Width); }
        if (n > 2) { (a2 + b2).Store(y + 4 * Width); (c2 + d2).Store(y + 5 * Width); }
        if (n > 3) { (a3 + b3).Store(y + 6 * Width); (c3 + d3).Store(y + 7 * Width); }
        if (n > 4) { (a4 + b4).Store(y + 8 * Width); (c4 + d4).Store(y + 9 * Width); }
        if (n > 5) { (a5 + b5).Store(y + 10 * Width); (c5 + d5).Store(y + 11 * Width); }
    }

    /// <summary>acc + x·w in every lane (x broadcast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> MulAdd(float x, Vector512<float> w, Vector512<float> acc) => Vector512.FusedMultiplyAdd(Vector512.Create(x), w, acc);

    /// <summary>How many rows a <see cref="PairRows512{TRows}"/> pass computes: a constant per struct type, so the JIT
    /// drops the other rows' code.</summary>
    interface IRowCount
    {
        static abstract int Count { get; }
    }

    struct Two : IRowCount { public static int Count => 2; }
    struct Three : IRowCount { public static int Count => 3; }
    struct Four : IRowCount { public static int Count => 4; }
    struct Five : IRowCount { public static int Count => 5; }
    struct Six : IRowCount { public static int Count => 6; }
}
