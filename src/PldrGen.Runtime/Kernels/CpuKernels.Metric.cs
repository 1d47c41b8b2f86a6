using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// The metric learner's dk×dk arithmetic per head, in double: QᵀQ and the power law's two products. Both run in
/// register tiles of 4 rows × 16 columns (16 Vector256&lt;double&gt; accumulators, the float inputs widened as they
/// are loaded); the outputs past the last whole tile run one by one. Every output is one fused multiply-add chain
/// in the order of its sum on either path, so the tiling changes no bit.
/// </summary>
public static partial class CpuKernels
{
    const int DoubleTileRows = 4, DoubleTileCols = 16;

    /// <summary>A[h] = Σ_s Q[s, h]ᵀ·Q[s, h] over all rows (no causal mask): the per-head dk×dk metric tensor.</summary>
    public static unsafe void MetricTensor(ReadOnlySpan<float> q, int rows, int heads, int headDim, Span<float> a)
    {
        Require(q.Length >= rows * heads * headDim && a.Length >= heads * headDim * headDim, "MetricTensor: a buffer is smaller than its shape");
        fixed (float* pq = q, pa = a)
        {
            var job = new HeadJob { Q = pq, Out = pa, Rows = rows, Heads = heads, HeadDim = headDim };
            CpuWorkers.Shared.For(heads, 1, &MetricTensorHeads, &job);
        }
    }

    /// <summary>
    /// One head's Σ_s q[s]ᵀ·q[s], accumulated in double: G raises A_LM to real powers, so the rounding of A is
    /// amplified all the way to the logits, and this sum over every position is where A picks up the most. A is
    /// symmetric to the bit (q_i·q_j = q_j·q_i exactly), so only the tiles on or above the diagonal are summed and
    /// the lower triangle is copied from the upper.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow tier-0 prefill
    static unsafe void MetricTensorHeads(void* state, int start, int end)
    {
        var job = (HeadJob*)state;
        int dk = job->HeadDim, dim = job->Heads * dk, positions = job->Rows;
        int tiledRows = dk - dk % DoubleTileRows, tiledCols = dk - dk % DoubleTileCols;
        for (int h = start; h < end; h++)
        {
            float* q = job->Q + h * dk, a = job->Out + h * dk * dk;
            for (int i0 = 0; i0 < tiledRows; i0 += DoubleTileRows)
            {
                for (int j0 = i0 / DoubleTileCols * DoubleTileCols; j0 < tiledCols; j0 += DoubleTileCols)
                    DoubleTile(q + i0, 1, dim, q + j0, dim, positions, null, a + i0 * dk + j0, dk);
                for (int i = i0; i < i0 + DoubleTileRows; i++)
                    for (int j = tiledCols; j < dk; j++) a[i * dk + j] = DoubleEntry(q + i, dim, q + j, dim, positions, 0);
            }
            for (int i = tiledRows; i < dk; i++)
                for (int j = i; j < dk; j++) a[i * dk + j] = DoubleEntry(q + i, dim, q + j, dim, positions, 0);
            for (int i = 1; i < dk; i++)
                for (int j = 0; j < i; j++) a[i * dk + j] = a[j * dk + i];
        }
    }

    /// <summary>x widened to double in every lane, as a vector operation: a scalar convert would merge into the
    /// previous broadcast's register and chain a tile's four broadcasts one after another.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<double> Broadcast(float x) => Vector256.WidenLower(Vector256.Create(x));

    /// <summary>A 4 × 16 tile of double sums, rounded to float, into rows <paramref name="stride"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void StoreTile(float* y, int stride,
        Vector256<double> c00, Vector256<double> c01, Vector256<double> c02, Vector256<double> c03,
        Vector256<double> c10, Vector256<double> c11, Vector256<double> c12, Vector256<double> c13,
        Vector256<double> c20, Vector256<double> c21, Vector256<double> c22, Vector256<double> c23,
        Vector256<double> c30, Vector256<double> c31, Vector256<double> c32, Vector256<double> c33)
    {
        Vector256.Narrow(c00, c01).Store(y); Vector256.Narrow(c02, c03).Store(y + 8);
        Vector256.Narrow(c10, c11).Store(y + stride); Vector256.Narrow(c12, c13).Store(y + stride + 8);
        Vector256.Narrow(c20, c21).Store(y + 2 * stride); Vector256.Narrow(c22, c23).Store(y + 2 * stride + 8);
        Vector256.Narrow(c30, c31).Store(y + 3 * stride); Vector256.Narrow(c32, c33).Store(y + 3 * stride + 8);
    }

    /// <summary>
    /// The power-law step per head: A_LM = iSwiGLU(W·A + b) + 1e-9 (so A_LM &gt; 0), A_P = A_LM^pw element-wise,
    /// G_LM = a·A_P + ba; heads split across the workers. <paramref name="scratch"/> holds [H, dk, dk] floats.
    /// </summary>
    /// <remarks>
    /// The element-wise power turns a relative error ε of A_LM into pw·ε, and A_LM is tiny wherever W·A + b cancels;
    /// so both dk×dk products accumulate in double and the power is taken in double (a float pow computed as
    /// exp(pw·ln A) would add |pw·ln A| ulps). What is left is the float32 rounding of A itself.
    /// </remarks>
    public static unsafe void PowerLaw(ReadOnlySpan<float> a, PlgaWeights plga, int heads, int headDim,
        Span<float> aLm, Span<float> g, Span<float> scratch)
    {
        int size = heads * headDim * headDim;
        Require(a.Length >= size && aLm.Length >= size && g.Length >= size && scratch.Length >= size
            && plga.W.Length >= size && plga.B.Length >= size && plga.Pw.Length >= size && plga.Alpha.Length >= size && plga.Beta.Length >= size,
            "PowerLaw: a buffer is smaller than [H, dk, dk]");
        fixed (float* pa = a, pw = plga.W, pb = plga.B, ppw = plga.Pw, pal = plga.Alpha, pbe = plga.Beta, paLm = aLm, pg = g, ps = scratch)
        {
            var job = new PowerLawJob { A = pa, W = pw, B = pb, Pw = ppw, Alpha = pal, Beta = pbe, ALm = paLm, G = pg, Scratch = ps, HeadDim = headDim };
            CpuWorkers.Shared.For(heads, 1, &PowerLawHeads, &job);
        }
    }

    unsafe struct PowerLawJob
    {
        public float* A, W, B, Pw, Alpha, Beta, ALm, G, Scratch;
        public int HeadDim;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow tier-0 prefill
    static unsafe void PowerLawHeads(void* state, int start, int end)
    {
        var job = (PowerLawJob*)state;
        int dk = job->HeadDim, n = dk * dk;
        for (int h = start; h < end; h++)
        {
            long at = (long)h * n;
            SquareProduct(job->W + at, job->A + at, job->B + at, job->ALm + at, dk);
            PowerLawElements(job->ALm + at, job->Pw + at, job->Scratch + at, n);
            SquareProduct(job->Alpha + at, job->Scratch + at, job->Beta + at, job->G + at, dk);
        }
    }

    /// <summary>
    /// z (in <paramref name="aLm"/>) → A_LM = iSwiGLU(z) + 1e-9 = z²·σ(z) + 1e-9, and A_P = A_LM^pw = e^(pw·ln A_LM),
    /// in double eight at a time with <see cref="Vec.ExpDouble"/> and <see cref="Vec.LogDouble"/> (within 2 ulps of
    /// double, so the floats are Math.Exp's and Math.Pow's but where a double lands that close to a float's rounding
    /// boundary). The last n mod 8 go through a zero-padded copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void PowerLawElements(float* aLm, float* pw, float* aP, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8) PowerLawEight(aLm + i, pw + i, aP + i);
        if (i == n) return;
        float* padded = stackalloc float[24]; // z, pw, A_P
        new Span<float>(padded, 24).Clear();
        for (int j = 0; j < n - i; j++) (padded[j], padded[8 + j]) = (aLm[i + j], pw[i + j]);
        PowerLawEight(padded, padded + 8, padded + 16);
        for (int j = 0; j < n - i; j++) (aLm[i + j], aP[i + j]) = (padded[j], padded[16 + j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void PowerLawEight(float* aLm, float* pw, float* aP)
    {
        var (z0, z1) = Vector256.Widen(Vector256.Load(aLm));
        var a = Vector256.Narrow(z0 * z0 / (Vector256<double>.One + Vec.ExpDouble(-z0)), z1 * z1 / (Vector256<double>.One + Vec.ExpDouble(-z1)))
            + Vector256.Create(1e-9f);
        a.Store(aLm);
        var (a0, a1) = Vector256.Widen(a);
        var (p0, p1) = Vector256.Widen(Vector256.Load(pw));
        Vector256.Narrow(Vec.ExpDouble(p0 * Vec.LogDouble(a0)), Vec.ExpDouble(p1 * Vec.LogDouble(a1))).Store(aP);
    }

    /// <summary>c = a·b + bias for square n×n matrices, each output bias + Σ_k a[i, k]·b[k, j] in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void SquareProduct(float* a, float* b, float* bias, float* c, int n)
    {
        int tiledRows = n - n % DoubleTileRows, tiledCols = n - n % DoubleTileCols;
        for (int i0 = 0; i0 < tiledRows; i0 += DoubleTileRows)
        {
            for (int j0 = 0; j0 < tiledCols; j0 += DoubleTileCols) DoubleTile(a + i0 * n, n, 1, b + j0, n, n, bias + i0 * n + j0, c + i0 * n + j0, n);
            for (int i = i0; i < i0 + DoubleTileRows; i++)
                for (int j = tiledCols; j < n; j++) c[i * n + j] = DoubleEntry(a + i * n, 1, b + j, n, n, bias[i * n + j]);
        }
        for (int i = tiledRows; i < n; i++)
            for (int j = 0; j < n; j++) c[i * n + j] = DoubleEntry(a + i * n, 1, b + j, n, n, bias[i * n + j]);
    }

    /// <summary>
    /// y[r, c] = init[r, c] + Σ_k a[r, k]·b[k, c] for a 4 × 16 tile in double (init null: 0), the products of QᵀQ and
    /// of <see cref="SquareProduct"/> alike: a[r, k] at <paramref name="a"/> + r·<paramref name="aRow"/> +
    /// k·<paramref name="aStep"/>, row k of b at <paramref name="b"/> + k·<paramref name="bStep"/>; init and y rows
    /// <paramref name="stride"/> apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void DoubleTile(float* a, long aRow, long aStep, float* b, long bStep, int count, float* init, float* y, int stride)
    {
        Vector256<double> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<double> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        if (init is not null)
        {
            (c00, c01) = Vector256.Widen(Vector256.Load(init)); (c02, c03) = Vector256.Widen(Vector256.Load(init + 8));
            (c10, c11) = Vector256.Widen(Vector256.Load(init + stride)); (c12, c13) = Vector256.Widen(Vector256.Load(init + stride + 8));
            (c20, c21) = Vector256.Widen(Vector256.Load(init + 2 * stride)); (c22, c23) = Vector256.Widen(Vector256.Load(init + 2 * stride + 8));
            (c30, c31) = Vector256.Widen(Vector256.Load(init + 3 * stride)); (c32, c33) = Vector256.Widen(Vector256.Load(init + 3 * stride + 8));
        }
        for (int k = 0; k < count; k++, a += aStep, b += bStep)
        {
            var (v0, v1) = Vector256.Widen(Vector256.Load(b));
            var (v2, v3) = Vector256.Widen(Vector256.Load(b + 8));
            var x = Broadcast(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, v0, c00); c01 = Vector256.FusedMultiplyAdd(x, v1, c01); c02 = Vector256.FusedMultiplyAdd(x, v2, c02); c03 = Vector256.FusedMultiplyAdd(x, v3, c03);
            x = Broadcast(a[aRow]);
            c10 = Vector256.FusedMultiplyAdd(x, v0, c10); c11 = Vector256.FusedMultiplyAdd(x, v1, c11); c12 = Vector256.FusedMultiplyAdd(x, v2, c12); c13 = Vector256.FusedMultiplyAdd(x, v3, c13);
            x = Broadcast(a[2 * aRow]);
            c20 = Vector256.FusedMultiplyAdd(x, v0, c20); c21 = Vector256.FusedMultiplyAdd(x, v1, c21); c22 = Vector256.FusedMultiplyAdd(x, v2, c22); c23 = Vector256.FusedMultiplyAdd(x, v3, c23);
            x = Broadcast(a[3 * aRow]);
            c30 = Vector256.FusedMultiplyAdd(x, v0, c30); c31 = Vector256.FusedMultiplyAdd(x, v1, c31); c32 = Vector256.FusedMultiplyAdd(x, v2, c32); c33 = Vector256.FusedMultiplyAdd(x, v3, c33);
        }
        StoreTile(y, stride, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
    }

    /// <summary>init + Σ_k a[k·aStep]·b[k·bStep]: one output of <see cref="DoubleTile"/>'s, by the same chain.</summary>
    static unsafe float DoubleEntry(float* a, long aStep, float* b, long bStep, int count, double init)
    {
        double sum = init;
        for (int k = 0; k < count; k++) sum = Math.FusedMultiplyAdd(a[k * aStep], b[k * bStep], sum);
        return (float)sum;
    }
}
