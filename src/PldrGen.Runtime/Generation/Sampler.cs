using System.Numerics.Tensors;

namespace PldrGen.Runtime.Generation;

/// <summary>Sampling settings, in the authors' terms: temperature in (0, 1], top-k ≥ 0 (0 = off), top-p in (0, 1].</summary>
public sealed record SamplingOptions(float Temperature = 1f, int TopK = 0, float TopP = 1f, int Seed = 0)
{
    /// <summary>Greedy decoding is top-k 1, as in the authors' code.</summary>
    public static SamplingOptions Greedy { get; } = new(TopK: 1);

    /// <summary>Far below this, logits ÷ T overflow to infinity and every draw becomes token 0.</summary>
    public const float MinTemperature = 1e-4f;

    public void Validate()
    {
        if (!(Temperature > 0 && Temperature <= 1)) throw new PldrException($"--temperature must be in (0, 1], got {Temperature}");
        if (Temperature < MinTemperature)
            throw new PldrException($"--temperature must be at least {MinTemperature} (logits ÷ T overflow below it; --greedy is the limit T → 0), got {Temperature}");
        if (TopK < 0) throw new PldrException($"--top-k must be 0 (off) or positive, got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new PldrException($"--top-p must be in (0, 1], got {TopP}");
    }
}

/// <summary>
/// Draws the next token in the authors' order: temperature (only if &lt; 1) → top-p → top-k → draw from the
/// softmax. Filtered logits become −1e10 as in their code. Buffers are allocated once per vocabulary size, and a
/// seed gives the same draws every run.
/// </summary>
public sealed class Sampler
{
    const float Removed = -1e10f;
    readonly SamplingOptions _options;
    readonly Random _random;
    readonly float[] _logits, _sorted, _probabilities;

    public Sampler(SamplingOptions options, int vocabSize)
    {
        options.Validate();
        _options = options;
        _random = new Random(options.Seed);
        _logits = new float[vocabSize];
        _sorted = new float[vocabSize];
        _probabilities = new float[vocabSize];
    }

    public int Next(ReadOnlySpan<float> logits)
    {
        if (_options.TopK == 1) return TensorPrimitives.IndexOfMax(logits); // greedy: no draw needed
        var x = _logits.AsSpan(0, logits.Length);
        logits.CopyTo(x);
        if (_options.Temperature < 1) TensorPrimitives.Divide(x, _options.Temperature, x);
        if (_options.TopP < 1) KeepAtOrAbove(x, TopPThreshold(x, _options.TopP));
        if (_options.TopK > 0 && _options.TopK < x.Length) KeepAtOrAbove(x, KthLargest(x, _options.TopK));
        var p = _probabilities.AsSpan(0, x.Length);
        SoftMax(x, p);
        double u = _random.NextDouble(), cumulative = 0;
        for (int i = 0; i < p.Length; i++)
        {
            cumulative += p[i];
            if (u < cumulative) return i;
        }
        return TensorPrimitives.IndexOfMax(p); // rounding left u above the total: take the likeliest
    }

    /// <summary>The smallest logit of the longest sorted prefix whose cumulative probability stays ≤ p (at least one).</summary>
    float TopPThreshold(ReadOnlySpan<float> x, float p)
    {
        var sorted = SortDescending(x);
        var probabilities = _probabilities.AsSpan(0, x.Length);
        SoftMax(sorted, probabilities);
        int kept = 0;
        float cumulative = 0;
        foreach (float probability in probabilities)
        {
            cumulative += probability;
            if (cumulative <= p) kept++;
        }
        return sorted[Math.Max(kept - 1, 0)];
    }

    float KthLargest(ReadOnlySpan<float> x, int k) => SortDescending(x)[k - 1];

    Span<float> SortDescending(ReadOnlySpan<float> x)
    {
        var sorted = _sorted.AsSpan(0, x.Length);
        x.CopyTo(sorted);
        sorted.Sort(static (a, b) => b.CompareTo(a));
        return sorted;
    }

    static unsafe void SoftMax(ReadOnlySpan<float> x, Span<float> p)
    {
        x.CopyTo(p);
        fixed (float* pp = p) Kernels.Vec.SoftMax(pp, p.Length);
    }

    static void KeepAtOrAbove(Span<float> x, float threshold)
    {
        for (int i = 0; i < x.Length; i++)
            if (x[i] < threshold) x[i] = Removed;
    }
}
