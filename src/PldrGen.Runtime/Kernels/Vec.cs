using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// The element-wise loops of the CPU path, written with Vector256 arithmetic only.
/// </summary>
/// <remarks>
/// Why not System.Numerics.Tensors here: on the AMD EPYC hosts this project runs on, .NET reports Vector512 as
/// accelerated and TensorPrimitives takes its AVX-512 paths, which measured 5–10× slower than the same calls with
/// AVX-512 disabled (Sigmoid over 152k floats: 1.9 ms against 0.25 ms; Multiply 0.4 against 0.08) — and no runtime
/// setting but an environment variable turns them off. These loops stay on AVX2 + FMA, which is also what the
/// NativeAOT build targets (x86-64-v3). The exp is a Cephes-style polynomial (max relative error 2e-7, like a
/// float32 libm exp). Loops are compiled fully optimised from their first call (AggressiveOptimization): a
/// one-shot prefill would otherwise run them as slow tier-0 code.
/// </remarks>
static unsafe class Vec
{
    const int W = 8; // floats per Vector256

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(float* x, float* y, int n)
    {
        Vector256<float> a = default, b = default;
        int i = 0;
        for (; i + 2 * W <= n; i += 2 * W)
        {
            a = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), a);
            b = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + W), Vector256.Load(y + i + W), b);
        }
        for (; i + W <= n; i += W) a = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), a);
        float sum = Vector256.Sum(a + b);
        for (; i < n; i++) sum += x[i] * y[i];
        return sum;
    }

    /// <summary>y += a·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Axpy(float a, float* x, float* y, int n)
    {
        var va = Vector256.Create(a);
        int i = 0;
        for (; i + W <= n; i += W) Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        for (; i < n; i++) y[i] += a * x[i];
    }

    /// <summary>z = x + y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z)
    {
        fixed (float* px = x, py = y, pz = z)
        {
            int n = z.Length, i = 0;
            for (; i + W <= n; i += W) (Vector256.Load(px + i) + Vector256.Load(py + i)).Store(pz + i);
            for (; i < n; i++) pz[i] = px[i] + py[i];
        }
    }

    /// <summary>x = (x − mean)·scale·weight + bias with mean and scale from the row itself (two passes, centred first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNorm(float* x, int n, float* weight, float* bias, float eps)
    {
        var sum = Vector256<float>.Zero;
        int i = 0;
        for (; i + W <= n; i += W) sum += Vector256.Load(x + i);
        float mean = Vector256.Sum(sum);
        for (; i < n; i++) mean += x[i];
        mean /= n;
        var vm = Vector256.Create(mean);
        var squares = Vector256<float>.Zero;
        for (i = 0; i + W <= n; i += W)
        {
            var d = Vector256.Load(x + i) - vm;
            squares = Vector256.FusedMultiplyAdd(d, d, squares);
        }
        float variance = Vector256.Sum(squares);
        for (; i < n; i++) variance += (x[i] - mean) * (x[i] - mean);
        float scale = 1f / MathF.Sqrt(variance / n + eps);
        var vs = Vector256.Create(scale);
        for (i = 0; i + W <= n; i += W)
            Vector256.FusedMultiplyAdd((Vector256.Load(x + i) - vm) * vs, Vector256.Load(weight + i), Vector256.Load(bias + i)).Store(x + i);
        for (; i < n; i++) x[i] = (x[i] - mean) * scale * weight[i] + bias[i];
    }

    /// <summary>g = silu(g)·u = g·u / (1 + e^−g).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SiluGate(Span<float> g, ReadOnlySpan<float> u)
    {
        fixed (float* pg = g, pu = u)
        {
            int n = g.Length, i = 0;
            for (; i + W <= n; i += W)
            {
                var x = Vector256.Load(pg + i);
                (x * Vector256.Load(pu + i) / (Vector256<float>.One + Exp(-x))).Store(pg + i);
            }
            for (; i < n; i++) pg[i] = pg[i] * pu[i] / (1f + MathF.Exp(-pg[i]));
        }
    }

    /// <summary>x = softmax(x) in place: e^(x − max) / Σ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftMax(float* x, int n)
    {
        var vmax = Vector256.Create(float.NegativeInfinity);
        int i = 0;
        for (; i + W <= n; i += W) vmax = Vector256.Max(vmax, Vector256.Load(x + i));
        float max = float.NegativeInfinity;
        for (int j = 0; j < W; j++) max = MathF.Max(max, vmax.GetElement(j));
        for (; i < n; i++) max = MathF.Max(max, x[i]);
        vmax = Vector256.Create(max);
        var vsum = Vector256<float>.Zero;
        for (i = 0; i + W <= n; i += W)
        {
            var e = Exp(Vector256.Load(x + i) - vmax);
            e.Store(x + i);
            vsum += e;
        }
        float sum = Vector256.Sum(vsum);
        for (; i < n; i++) sum += x[i] = MathF.Exp(x[i] - max);
        var inv = Vector256.Create(1f / sum);
        for (i = 0; i + W <= n; i += W) (Vector256.Load(x + i) * inv).Store(x + i);
        for (; i < n; i++) x[i] /= sum;
    }

    /// <summary>e^x for eight floats: 2^k·p(r) with x = k·ln2 + r, |r| ≤ ln2/2, p a degree-6 polynomial (Cephes expf).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-87.3f)), Vector256.Create(88.7f));
        var k = Vector256.Round(x * Vector256.Create(1.44269504088896341f));
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(k) + Vector256.Create(127), 23).AsSingle();
        return p * scale;
    }
}
