using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// y[t, o] = Σ_k x[t, k]·W[o, k] + b[o], W packed in panels of four interleaved rows (<see cref="WeightMatrix"/>),
/// split over panels across <see cref="CpuWorkers"/>. One input row (decode) streams each panel once: a
/// bandwidth-bound matrix-vector product. Several rows (prefill) use 4×4 register tiles, where each load feeds four
/// fused multiply-adds; a bfloat16 panel is first widened into a float32 panel that every input row then reuses.
/// </summary>
static unsafe class MatMul
{
    struct Job
    {
        public float* X, Bias, Y;
        public float* W; public ushort* WBf16;
        public int Rows, In, Out, PaddedIn;
    }

    const int Panel = WeightMatrix.PanelRows, Block = 8; // float32 blocks: 8 floats = one Vector256
    const int MaxIn = 1 << 14; // the widened bfloat16 panel lives on the stack

    public static void Linear(ReadOnlySpan<float> x, int rows, WeightMatrix w, float[]? bias, Span<float> y)
    {
        if (w.Precision == WeightPrecision.BFloat16 && w.Cols > MaxIn)
            throw new NotSupportedException($"bfloat16 weights with more than {MaxIn} inputs");
        fixed (float* px = x, pb = bias, py = y)
        {
            var job = new Job
            {
                X = px, Bias = pb, Y = py, Rows = rows, In = w.Cols, Out = w.Rows, PaddedIn = w.PaddedCols,
                W = w.Precision == WeightPrecision.Float32 ? w.Float32Pointer : null,
                WBf16 = w.Precision == WeightPrecision.BFloat16 ? w.BFloat16Pointer : null,
            };
            long work = (long)rows * w.Rows * w.Cols;
            if (work < 1 << 16) Panels(&job, 0, w.Panels); // not worth waking the workers
            else CpuWorkers.Shared.For(w.Panels, 1, &Panels, &job);
        }
    }

    /// <summary>Panels [start, end) for every input row.</summary>
    static void Panels(void* state, int start, int end)
    {
        var job = (Job*)state;
        int k = job->In, rows = job->Rows;
        long panelSize = (long)Panel * job->PaddedIn;
        float* widened = stackalloc float[job->WBf16 is null ? 1 : Panel * job->PaddedIn];
        float* four = stackalloc float[Panel * Panel];
        for (int p = start; p < end; p++)
        {
            int o = p * Panel, valid = Math.Min(Panel, job->Out - o);
            float* w;
            if (job->WBf16 is null) w = job->W + p * panelSize;
            else if (rows == 1)
            {
                Dot1x4(job->X, job->WBf16 + p * panelSize, k, four);
                Store(four, valid, job->Bias, o, job->Y + o);
                continue;
            }
            else
            {
                Widen(job->WBf16 + p * panelSize, job->PaddedIn, widened);
                w = widened;
            }
            int t = 0;
            for (; t + 4 <= rows; t += 4)
            {
                Tile4x4(job->X + (long)t * k, k, w, four);
                for (int r = 0; r < 4; r++) Store(four + r * Panel, valid, job->Bias, o, job->Y + (long)(t + r) * job->Out + o);
            }
            for (; t < rows; t++)
            {
                Dot1x4(job->X + (long)t * k, w, k, four);
                Store(four, valid, job->Bias, o, job->Y + (long)t * job->Out + o);
            }
        }
    }

    /// <summary>The panel's valid outputs (the last panel may hold fewer than four rows), plus the bias.</summary>
    static void Store(float* four, int valid, float* bias, int o, float* y)
    {
        for (int r = 0; r < valid; r++) y[r] = four[r] + (bias is null ? 0 : bias[o + r]);
    }

    /// <summary>y[0..4) = x·W[panel]ᵀ, float32 panel: each block of x meets four consecutive weight blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Dot1x4(float* x, float* w, int k, float* y)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default;
        int i = 0;
        for (; i + 2 * Block <= k; i += 2 * Block, w += 2 * Panel * Block) // two chains per row: more loads in flight
        {
            var xa = Vector256.Load(x + i);
            var xb = Vector256.Load(x + i + Block);
            c0 = Vector256.FusedMultiplyAdd(xa, Vector256.Load(w), c0);
            c1 = Vector256.FusedMultiplyAdd(xa, Vector256.Load(w + 8), c1);
            c2 = Vector256.FusedMultiplyAdd(xa, Vector256.Load(w + 16), c2);
            c3 = Vector256.FusedMultiplyAdd(xa, Vector256.Load(w + 24), c3);
            d0 = Vector256.FusedMultiplyAdd(xb, Vector256.Load(w + 32), d0);
            d1 = Vector256.FusedMultiplyAdd(xb, Vector256.Load(w + 40), d1);
            d2 = Vector256.FusedMultiplyAdd(xb, Vector256.Load(w + 48), d2);
            d3 = Vector256.FusedMultiplyAdd(xb, Vector256.Load(w + 56), d3);
        }
        c0 += d0; c1 += d1; c2 += d2; c3 += d3;
        for (; i + Block <= k; i += Block, w += Panel * Block)
        {
            var xa = Vector256.Load(x + i);
            c0 = Vector256.FusedMultiplyAdd(xa, Vector256.Load(w), c0);
            c1 = Vector256.FusedMultiplyAdd(xa, Vector256.Load(w + 8), c1);
            c2 = Vector256.FusedMultiplyAdd(xa, Vector256.Load(w + 16), c2);
            c3 = Vector256.FusedMultiplyAdd(xa, Vector256.Load(w + 24), c3);
        }
        Sum4(y, c0, c1, c2, c3);
        for (int j = 0; i + j < k; j++) // the last, partial block
            for (int r = 0; r < Panel; r++) y[r] += x[i + j] * w[r * Block + j];
    }

    /// <summary>The bfloat16 twin: a block is 16 weights, widened to float32 in registers (a shift by 16 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Dot1x4(float* x, ushort* w, int k, float* y)
    {
        const int B = 16;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default;
        int i = 0;
        for (; i + B <= k; i += B, w += Panel * B)
        {
            var xa = Vector256.Load(x + i);
            var xb = Vector256.Load(x + i + 8);
            var (a0, b0) = WidenBlock(w); var (a1, b1) = WidenBlock(w + B);
            var (a2, b2) = WidenBlock(w + 2 * B); var (a3, b3) = WidenBlock(w + 3 * B);
            c0 = Vector256.FusedMultiplyAdd(xa, a0, c0); d0 = Vector256.FusedMultiplyAdd(xb, b0, d0);
            c1 = Vector256.FusedMultiplyAdd(xa, a1, c1); d1 = Vector256.FusedMultiplyAdd(xb, b1, d1);
            c2 = Vector256.FusedMultiplyAdd(xa, a2, c2); d2 = Vector256.FusedMultiplyAdd(xb, b2, d2);
            c3 = Vector256.FusedMultiplyAdd(xa, a3, c3); d3 = Vector256.FusedMultiplyAdd(xb, b3, d3);
        }
        Sum4(y, c0 + d0, c1 + d1, c2 + d2, c3 + d3);
        for (int j = 0; i + j < k; j++)
            for (int r = 0; r < Panel; r++) y[r] += x[i + j] * Checkpoints.BFloat16.ToFloat(w[r * B + j]);
    }

    /// <summary>16 bfloat16 values as two float32 vectors (lanes 0..7 and 8..15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float>, Vector256<float>) WidenBlock(ushort* p)
    {
        var (lower, upper) = Vector256.Widen(Vector256.Load(p));
        return (Vector256.ShiftLeft(lower, 16).AsSingle(), Vector256.ShiftLeft(upper, 16).AsSingle());
    }

    /// <summary>A bfloat16 panel (blocks of 16) as a float32 panel (blocks of 8), for the prefill tiles.</summary>
    static void Widen(ushort* w, int paddedIn, float* destination)
    {
        const int B = 16;
        for (int j = 0; j < paddedIn / B; j++)
            for (int r = 0; r < Panel; r++)
                for (int half = 0; half < 2; half++)
                    for (int e = 0; e < Block; e++)
                        destination[(2 * j + half) * Panel * Block + r * Block + e] =
                            Checkpoints.BFloat16.ToFloat(w[j * Panel * B + r * B + half * Block + e]);
    }

    /// <summary>y[r, c] = x[r]·W[panel row c] for 4 input rows × the panel's 4 rows, in 16 vector accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile4x4(float* x, int k, float* w, float* y)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k;
        float* wb = w;
        int i = 0;
        for (; i + Block <= k; i += Block, wb += Panel * Block)
        {
            var b0 = Vector256.Load(wb); var b1 = Vector256.Load(wb + 8);
            var b2 = Vector256.Load(wb + 16); var b3 = Vector256.Load(wb + 24);
            var a = Vector256.Load(x + i);
            c00 = Vector256.FusedMultiplyAdd(a, b0, c00); c01 = Vector256.FusedMultiplyAdd(a, b1, c01);
            c02 = Vector256.FusedMultiplyAdd(a, b2, c02); c03 = Vector256.FusedMultiplyAdd(a, b3, c03);
            a = Vector256.Load(x1 + i);
            c10 = Vector256.FusedMultiplyAdd(a, b0, c10); c11 = Vector256.FusedMultiplyAdd(a, b1, c11);
            c12 = Vector256.FusedMultiplyAdd(a, b2, c12); c13 = Vector256.FusedMultiplyAdd(a, b3, c13);
            a = Vector256.Load(x2 + i);
            c20 = Vector256.FusedMultiplyAdd(a, b0, c20); c21 = Vector256.FusedMultiplyAdd(a, b1, c21);
            c22 = Vector256.FusedMultiplyAdd(a, b2, c22); c23 = Vector256.FusedMultiplyAdd(a, b3, c23);
            a = Vector256.Load(x3 + i);
            c30 = Vector256.FusedMultiplyAdd(a, b0, c30); c31 = Vector256.FusedMultiplyAdd(a, b1, c31);
            c32 = Vector256.FusedMultiplyAdd(a, b2, c32); c33 = Vector256.FusedMultiplyAdd(a, b3, c33);
        }
        Sum4(y, c00, c01, c02, c03);
        Sum4(y + 4, c10, c11, c12, c13);
        Sum4(y + 8, c20, c21, c22, c23);
        Sum4(y + 12, c30, c31, c32, c33);
        for (int j = 0; i + j < k; j++) // the last, partial block
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < Panel; c++) y[r * Panel + c] += x[r * k + i + j] * wb[c * Block + j];
    }

    /// <summary>y[0..4) = the sums of four accumulators, reduced together (three horizontal adds, not twelve shuffles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Sum4(float* y, Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        if (Avx.IsSupported)
        {
            var pairs = Avx.HorizontalAdd(Avx.HorizontalAdd(a, b), Avx.HorizontalAdd(c, d));
            (pairs.GetLower() + pairs.GetUpper()).Store(y);
            return;
        }
        y[0] = Vector256.Sum(a); y[1] = Vector256.Sum(b); y[2] = Vector256.Sum(c); y[3] = Vector256.Sum(d);
    }
}
