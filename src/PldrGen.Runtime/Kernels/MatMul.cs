using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// y[t, o] = Σ_k x[t, k]·W[o, k] + b[o] with W in the checkpoint's [out, in] layout, split over output rows across
/// <see cref="CpuWorkers"/>. One row (decode) streams W once: a bandwidth-bound matrix-vector product. Several rows
/// (prefill) use 4×4 register tiles: each pair of loads feeds four fused multiply-adds.
/// </summary>
static unsafe class MatMul
{
    struct Job
    {
        public float* X, W, Bias, Y;
        public int Rows, In, Out;
    }

    public static void Linear(ReadOnlySpan<float> x, int rows, WeightMatrix w, float[]? bias, Span<float> y)
    {
        fixed (float* px = x, pw = w.Values, pb = bias, py = y)
        {
            var job = new Job { X = px, W = pw, Bias = pb, Y = py, Rows = rows, In = w.Cols, Out = w.Rows };
            // Small layers are not worth waking the workers for.
            long work = (long)rows * w.Rows * w.Cols;
            if (work < 1 << 16) Rows(&job, 0, w.Rows);
            else CpuWorkers.Shared.For(w.Rows, 4, &Rows, &job);
        }
    }

    /// <summary>Output rows [start, end) for every input row.</summary>
    static void Rows(void* state, int start, int end)
    {
        var job = (Job*)state;
        int k = job->In;
        int o = start;
        if (job->Rows == 1)
        {
            for (; o + 4 <= end; o += 4) Dot1x4(job->X, job->W + (long)o * k, k, job->Y + o);
            for (; o < end; o++) job->Y[o] = Dot(job->X, job->W + (long)o * k, k);
        }
        else
        {
            for (; o + 4 <= end; o += 4)
            {
                int t = 0;
                for (; t + 4 <= job->Rows; t += 4) Tile4x4(job->X + (long)t * k, job->W + (long)o * k, k, job->Y + (long)t * job->Out + o, job->Out);
                for (; t < job->Rows; t++) Dot1x4(job->X + (long)t * k, job->W + (long)o * k, k, job->Y + (long)t * job->Out + o);
            }
            for (; o < end; o++)
                for (int t = 0; t < job->Rows; t++) job->Y[(long)t * job->Out + o] = Dot(job->X + (long)t * k, job->W + (long)o * k, k);
        }
        if (job->Bias is not null)
            for (int t = 0; t < job->Rows; t++)
                for (int i = start; i < end; i++) job->Y[(long)t * job->Out + i] += job->Bias[i];
    }

    static float Dot(float* x, float* w, int k)
    {
        var acc = Vector256<float>.Zero;
        int i = 0;
        for (; i + 8 <= k; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(w + i), acc);
        float sum = Vector256.Sum(acc);
        for (; i < k; i++) sum += x[i] * w[i];
        return sum;
    }

    /// <summary>y[0..4) = x·W[0..4)ᵀ: four weight rows share each load of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Dot1x4(float* x, float* w, int k, float* y)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        int i = 0;
        for (; i + 8 <= k; i += 8)
        {
            var xv = Vector256.Load(x + i);
            c0 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(w + i), c0);
            c1 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(w + k + i), c1);
            c2 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(w + 2 * k + i), c2);
            c3 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(w + 3 * k + i), c3);
        }
        float s0 = Vector256.Sum(c0), s1 = Vector256.Sum(c1), s2 = Vector256.Sum(c2), s3 = Vector256.Sum(c3);
        for (; i < k; i++)
        {
            s0 += x[i] * w[i]; s1 += x[i] * w[k + i]; s2 += x[i] * w[2 * k + i]; s3 += x[i] * w[3 * k + i];
        }
        y[0] = s0; y[1] = s1; y[2] = s2; y[3] = s3;
    }

    /// <summary>y[t, o] for 4 input rows × 4 weight rows in 16 vector accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile4x4(float* x, float* w, int k, float* y, int ldy)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k;
        float* x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k;
        int i = 0;
        for (; i + 8 <= k; i += 8)
        {
            var b0 = Vector256.Load(w + i); var b1 = Vector256.Load(w1 + i);
            var b2 = Vector256.Load(w2 + i); var b3 = Vector256.Load(w3 + i);
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
        Store(y, Vector256.Sum(c00), Vector256.Sum(c01), Vector256.Sum(c02), Vector256.Sum(c03));
        Store(y + ldy, Vector256.Sum(c10), Vector256.Sum(c11), Vector256.Sum(c12), Vector256.Sum(c13));
        Store(y + 2 * ldy, Vector256.Sum(c20), Vector256.Sum(c21), Vector256.Sum(c22), Vector256.Sum(c23));
        Store(y + 3 * ldy, Vector256.Sum(c30), Vector256.Sum(c31), Vector256.Sum(c32), Vector256.Sum(c33));
        for (; i < k; i++) // the contraction's tail (k not a multiple of 8)
            for (int r = 0; r < 4; r++)
            {
                float xr = x[r * k + i];
                for (int c = 0; c < 4; c++) y[r * ldy + c] += xr * w[c * k + i];
            }
    }

    static void Store(float* y, float a, float b, float c, float d)
    {
        y[0] = a; y[1] = b; y[2] = c; y[3] = d;
    }
}
