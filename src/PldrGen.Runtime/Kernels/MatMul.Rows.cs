using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// Several decode rows against one panel (batched decode), each row's sums bit for bit those of <c>Row</c> alone, so
/// a sequence's logits do not depend on its batch. Float32 panels go several rows at a time: each weight load meets
/// every row's broadcast, in <c>Row</c>'s accumulator order, so n rows cost one pass over the panel instead of n.
/// With AVX-512 a Vector512 holds a panel row (16 outputs) and does per lane what <c>Row</c>'s Vector256 pair does,
/// so eight rows (sixteen accumulators) fit the 32 registers; without it, three rows of Vector256 pairs (twelve of
/// 16 registers). A bfloat16 panel, widened once (exactly) into float32, runs the same way and matches its own
/// <c>Row</c>, whose order is the float32 one; an IEEE-half panel likewise. Int8 rows use the int8 tiles, whose
/// integer sums are exact and whose float32 steps per row are a lone row's (MatMul.Int8.cs).
/// </summary>
static unsafe partial class MatMul
{
    const int WidenForRows = 4; // below this many rows, widening a bfloat16 panel costs more than it saves
    const int PassRows = 8;     // the most rows one AVX-512 pass computes (sixteen accumulators)

    static void RowsAsAlone(Job* job, int p, float* tile)
    {
        int k = job->In, rows = job->Rows, o = p * Width, r = 0;
        ushort* w16 = job->W16 is null ? null : job->W16 + p * job->PanelSize;
        float* w = job->W is not null ? job->W + p * job->PanelSize
            : w16 is null || rows < WidenForRows ? null
            : job->Half ? Widen<HalfBits>(w16, k) : Widen<BFloat16Bits>(w16, k);
        if (w is not null && Vector512.IsHardwareAccelerated)
        {
            for (; r + PassRows <= rows; r += PassRows) Pass<Eight>(job, r, o, w, tile);
            if (rows - r >= 2) // the rest in one pass; a single row is Row's
            {
                switch (rows - r)
                {
                    case 7: Pass<Seven>(job, r, o, w, tile); break;
                    case 6: Pass<Six>(job, r, o, w, tile); break;
                    case 5: Pass<Five>(job, r, o, w, tile); break;
                    case 4: Pass<Four>(job, r, o, w, tile); break;
                    case 3: Pass<Three>(job, r, o, w, tile); break;
                    default: Pass<Two>(job, r, o, w, tile); break;
                }
                r = rows;
            }
        }
        else if (w is not null)
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

    /// <summary>Rows [r, r + TRows.Count) of the job against float32 panel w, one pass.</summary>
    static void Pass<TRows>(Job* job, int r, int o, float* w, float* tile) where TRows : struct, IRowCount
    {
        Rows512<TRows>(job->X + (long)r * job->In, job->In, w, tile);
        StoreRows(job, r, TRows.Count, o, tile);
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
    /// <c>Row</c> for TRows.Count input rows (x + r·k into y + 16r) with AVX-512: per row an even-input and an
    /// odd-input Vector512, each lane the arithmetic of <c>Row</c>'s Vector256 pair. The count is a type argument,
    /// so each count compiles to its own kernel without the unused rows' registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Rows512<TRows>(float* x, int k, float* w, float* y) where TRows : struct, IRowCount
    {
        int n = TRows.Count;
        Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        Vector512<float> a4 = default, b4 = default, a5 = default, b5 = default, a6 = default, b6 = default, a7 = default, b7 = default;
        float* x1 = x + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k, x6 = x5 + k, x7 = x6 + k; // rows past n are never read
        int i = 0;
        for (; i + 2 <= k; i += 2, w += 2 * Width)
        {
            var even = Vector512.Load(w); var odd = Vector512.Load(w + Width);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(x[i]), even, a0); b0 = Vector512.FusedMultiplyAdd(Vector512.Create(x[i + 1]), odd, b0);
            if (n > 1) { a1 = Vector512.FusedMultiplyAdd(Vector512.Create(x1[i]), even, a1); b1 = Vector512.FusedMultiplyAdd(Vector512.Create(x1[i + 1]), odd, b1); }
            if (n > 2) { a2 = Vector512.FusedMultiplyAdd(Vector512.Create(x2[i]), even, a2); b2 = Vector512.FusedMultiplyAdd(Vector512.Create(x2[i + 1]), odd, b2); }
            if (n > 3) { a3 = Vector512.FusedMultiplyAdd(Vector512.Create(x3[i]), even, a3); b3 = Vector512.FusedMultiplyAdd(Vector512.Create(x3[i + 1]), odd, b3); }
            if (n > 4) { a4 = Vector512.FusedMultiplyAdd(Vector512.Create(x4[i]), even, a4); b4 = Vector512.FusedMultiplyAdd(Vector512.Create(x4[i + 1]), odd, b4); }
            if (n > 5) { a5 = Vector512.FusedMultiplyAdd(Vector512.Create(x5[i]), even, a5); b5 = Vector512.FusedMultiplyAdd(Vector512.Create(x5[i + 1]), odd, b5); }
            if (n > 6) { a6 = Vector512.FusedMultiplyAdd(Vector512.Create(x6[i]), even, a6); b6 = Vector512.FusedMultiplyAdd(Vector512.Create(x6[i + 1]), odd, b6); }
            if (n > 7) { a7 = Vector512.FusedMultiplyAdd(Vector512.Create(x7[i]), even, a7); b7 = Vector512.FusedMultiplyAdd(Vector512.Create(x7[i + 1]), odd, b7); }
        }
        if (i < k) // an odd input count: the last input goes to the even accumulators, as in Row
        {
            var even = Vector512.Load(w);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(x[i]), even, a0);
            if (n > 1) a1 = Vector512.FusedMultiplyAdd(Vector512.Create(x1[i]), even, a1);
            if (n > 2) a2 = Vector512.FusedMultiplyAdd(Vector512.Create(x2[i]), even, a2);
            if (n > 3) a3 = Vector512.FusedMultiplyAdd(Vector512.Create(x3[i]), even, a3);
            if (n > 4) a4 = Vector512.FusedMultiplyAdd(Vector512.Create(x4[i]), even, a4);
            if (n > 5) a5 = Vector512.FusedMultiplyAdd(Vector512.Create(x5[i]), even, a5);
            if (n > 6) a6 = Vector512.FusedMultiplyAdd(Vector512.Create(x6[i]), even, a6);
            if (n > 7) a7 = Vector512.FusedMultiplyAdd(Vector512.Create(x7[i]), even, a7);
        }
        (a0 + b0).Store(y);
        if (n > 1) (a1 + b1).Store(y + Width);
        if (n > 2) (a2 + b2).Store(y + 2 * Width);
        if (n > 3) (a3 + b3).Store(y + 3 * Width);
        if (n > 4) (a4 + b4).Store(y + 4 * Width);
        if (n > 5) (a5 + b5).Store(y + 5 * Width);
        if (n > 6) (a6 + b6).Store(y + 6 * Width);
        if (n > 7) (a7 + b7).Store(y + 7 * Width);
    }

    /// <summary>How many rows a <see cref="Rows512{TRows}"/> pass computes: a constant per struct type, so the JIT
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
    struct Seven : IRowCount { public static int Count => 7; }
    struct Eight : IRowCount { public static int Count => 8; }
}
