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
            for (; i + W <= n; i += W) SiluGate(Vector256.Load(pg + i), Vector256.Load(pu + i)).Store(pg + i);
            for (; i < n; i++) pg[i] = pg[i] * pu[i] / (1f + MathF.Exp(-pg[i]));
        }
    }

    /// <summary>g·u / (1 + e^−g) for eight lanes: the one formula of the gate, here and in the gated product's tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SiluGate(Vector256<float> g, Vector256<float> u) => g * u / (Vector256<float>.One + Exp(-g));

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

    /// <summary>
    /// e^x for four doubles, within 2 ulps of double, for results that are rounded to float: x is clamped to
    /// [−708, 709] (past it a float is 0 or ∞ either way), NaN stays NaN. 2^k·p(r) with x = k·ln2 + r (ln2 in two parts), |r| ≤ ln2/2,
    /// p the Taylor polynomial to r^13 (truncation below 1e-17); 2^k built in the exponent bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ExpDouble(Vector256<double> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-708.0)), Vector256.Create(709.0));
        var k = Vector256.Round(x * Vector256.Create(1.4426950408889634));
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-6.93147180369123816490e-01), x);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-1.90821492927058770002e-10), r);
        var p = Vector256.Create(1.0 / 6227020800);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 479001600));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 39916800));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 3628800));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 362880));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 40320));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 5040));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 720));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 120));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 24));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<double>.One);
        // k + 1023 + 2^52 holds k + 1023 in its low mantissa bits; shifted up by 52 they are 2^k's exponent field
        var biased = (k + Vector256.Create(1023.0 + 4503599627370496.0)).AsUInt64();
        var result = p * Vector256.ShiftLeft(biased, 52).AsDouble();
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>
    /// ln x for four positive normal doubles (+∞ and NaN pass through), within 2 ulps of double: x = m·2^e with m in [√½, √2), ln m =
    /// 2s·(1 + s²/3 + … + s²⁰/21) with s = (m − 1)/(m + 1), |s| ≤ 0.172 (truncation below 1e-17), and e·ln2 added in two parts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LogDouble(Vector256<double> x)
    {
        var bits = x.AsUInt64();
        var m = (bits & Vector256.Create(0x000FFFFFFFFFFFFFUL) | Vector256.Create(0x3FF0000000000000UL)).AsDouble(); // [1, 2)
        // the exponent field as a double: OR-ed into 2^52's mantissa, then 2^52 taken off
        var e = (Vector256.ShiftRightLogical(bits, 52) | Vector256.Create(0x4330000000000000UL)).AsDouble() - Vector256.Create(4503599627370496.0 + 1023);
        var high = Vector256.GreaterThan(m, Vector256.Create(1.4142135623730951));
        m = Vector256.ConditionalSelect(high, m * Vector256.Create(0.5), m);
        e += Vector256.ConditionalSelect(high, Vector256<double>.One, Vector256<double>.Zero);
        var s = (m - Vector256<double>.One) / (m + Vector256<double>.One);
        var s2 = s * s;
        var p = Vector256.Create(1.0 / 21);
        p = Vector256.FusedMultiplyAdd(p, s2, Vector256.Create(1.0 / 19));
        p = Vector256.FusedMultiplyAdd(p, s2, Vector256.Create(1.0 / 17));
        p = Vector256.FusedMultiplyAdd(p, s2, Vector256.Create(1.0 / 15));
        p = Vector256.FusedMultiplyAdd(p, s2, Vector256.Create(1.0 / 13));
        p = Vector256.FusedMultiplyAdd(p, s2, Vector256.Create(1.0 / 11));
        p = Vector256.FusedMultiplyAdd(p, s2, Vector256.Create(1.0 / 9));
        p = Vector256.FusedMultiplyAdd(p, s2, Vector256.Create(1.0 / 7));
        p = Vector256.FusedMultiplyAdd(p, s2, Vector256.Create(1.0 / 5));
        p = Vector256.FusedMultiplyAdd(p, s2, Vector256.Create(1.0 / 3));
        var twoS = s + s;
        var logM = Vector256.FusedMultiplyAdd(twoS * s2, p, twoS);
        var result = Vector256.FusedMultiplyAdd(e, Vector256.Create(6.93147180369123816490e-01), Vector256.FusedMultiplyAdd(e, Vector256.Create(1.90821492927058770002e-10), logM));
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(double.PositiveInfinity)), result, x);
    }
}
