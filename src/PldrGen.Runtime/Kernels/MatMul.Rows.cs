using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// Several decode rows against one panel (batched decode), each row's sums bit for bit those of <c>Row</c> alone, so
/// a sequence's logits do not depend on its batch. Float32 panels go three (then two) rows at a time: each weight
/// load meets every row's broadcast, in <c>Row</c>'s accumulator order, so three rows cost one pass over the panel
/// instead of three. A bfloat16 panel, widened once (exactly) into float32, runs the same way and matches its own
/// <c>Row</c>, whose order is the float32 one; an IEEE-half panel likewise; int8 panels never come here (MatMul.Int8.cs runs them row by row).
/// </summary>
static unsafe partial class MatMul
{
    const int WidenForRows = 4; // below this many rows, widening a bfloat16 panel costs more than it saves

    static void RowsAsAlone(Job* job, int p, float* tile)
    {
        int k = job->In, rows = job->Rows, o = p * Width, r = 0;
        ushort* w16 = job->W16 is null ? null : job->W16 + p * job->PanelSize;
        float* w = job->W is not null ? job->W + p * job->PanelSize
            : w16 is null || rows < WidenForRows ? null
            : job->Half ? Widen<HalfBits>(w16, k) : Widen<BFloat16Bits>(w16, k);
        if (w is not null)
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
}
