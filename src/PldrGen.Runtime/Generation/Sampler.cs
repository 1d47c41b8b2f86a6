using System.Numerics.Tensors;

namespace PldrGen.Runtime.Generation;

/// <summary>
/// Draws the next token of one sequence: penalties on the model's logits → temperature → the authors' top-p → top-k
/// (then min-p) → draw from the softmax. Filtered logits become −1e10 as in their code. Top-p, top-k and min-p each
/// keep a prefix of the logits in descending order, so applying them in that order keeps the shortest of the three
/// prefixes: the sampler finds each prefix's smallest logit by partial selection, never sorting the vocabulary.
/// Buffers are allocated once per sequence, and a seed gives the same draws every run.
/// </summary>
public sealed class Sampler
{
    const float Removed = -1e10f;
    readonly SamplingOptions _options;
    readonly Random _random;
    readonly float[] _logits, _probabilities;
    readonly DescendingSelection? _selection;
    readonly TokenPenalties? _penalties;

    /// <summary>A sampler for one sequence; the repetition penalty counts <paramref name="prompt"/>'s tokens as seen.</summary>
    public Sampler(SamplingOptions options, int vocabSize, ReadOnlySpan<int> prompt = default)
    {
        options.Validate();
        _options = options;
        Seed = options.Seed ?? Random.Shared.Next();
        _random = new Random(Seed);
        _logits = new float[vocabSize];
        _probabilities = new float[vocabSize];
        if (options.HasPenalties) _penalties = new TokenPenalties(options, vocabSize, prompt);
        if (!options.IsGreedy && (options.TopP < 1 || options.TopK > 1)) _selection = new DescendingSelection(vocabSize);
    }

    /// <summary>The seed the draws use: the options' seed, or the random one drawn when they gave none.</summary>
    public int Seed { get; }

    /// <summary>Draws the next token from <paramref name="logits"/> and counts it for the penalties.</summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        int token = Draw(logits);
        _penalties?.Add(token);
        return token;
    }

    int Draw(ReadOnlySpan<float> logits)
    {
        if (_penalties is null && _options.IsGreedy) return TensorPrimitives.IndexOfMax(logits); // greedy: no draw needed
        var x = Penalized(logits);
        if (_options.IsGreedy) return TensorPrimitives.IndexOfMax(x);
        var p = Distribution(x);
        double u = _random.NextDouble(), cumulative = 0;
        for (int i = 0; i < p.Length; i++)
        {
            cumulative += p[i];
            if (u < cumulative) return i;
        }
        return TensorPrimitives.IndexOfMax(p); // rounding left u above the total: take the likeliest
    }

    /// <summary>The distribution the next draw uses (one-hot when greedy), without drawing: for tests.</summary>
    internal float[] Probabilities(ReadOnlySpan<float> logits)
    {
        var x = Penalized(logits);
        if (!_options.IsGreedy) return Distribution(x).ToArray();
        var oneHot = new float[x.Length];
        oneHot[TensorPrimitives.IndexOfMax(x)] = 1;
        return oneHot;
    }

    Span<float> Penalized(ReadOnlySpan<float> logits)
    {
        var x = _logits.AsSpan(0, logits.Length);
        logits.CopyTo(x);
        _penalties?.Apply(x);
        return x;
    }

    /// <summary>Temperature, then the softmax over the tokens top-p, top-k and min-p keep; exactly 0 elsewhere.</summary>
    Span<float> Distribution(Span<float> x)
    {
        if (_options.Temperature != 1) TensorPrimitives.Divide(x, _options.Temperature, x);
        float threshold = KeptThreshold(x);
        var p = _probabilities.AsSpan(0, x.Length);
        if (threshold == float.NegativeInfinity)
        {
            SoftMax(x, p);
            return p;
        }
        for (int i = 0; i < x.Length; i++)
            if (x[i] < threshold) x[i] = Removed;
        SoftMax(x, p);
        for (int i = 0; i < x.Length; i++)
            if (x[i] == Removed) p[i] = 0; // the softmax leaves e^−87 on a removed token: never draw it
        return p;
    }

    /// <summary>The smallest logit that top-p, top-k and min-p all keep (−∞ when none is on).</summary>
    float KeptThreshold(ReadOnlySpan<float> x)
    {
        float threshold = float.NegativeInfinity;
        if (_options.TopP < 1)
        {
            var p = _probabilities.AsSpan(0, x.Length);
            SoftMax(x, p);
            double total = 0; // the float softmax sums to 1 only within its rounding; p is a fraction of what it sums to
            foreach (float probability in p) total += probability;
            threshold = _selection!.LastWithin(x, p, _options.TopP * total);
        }
        if (_options.TopK > 0 && _options.TopK < x.Length)
            threshold = MathF.Max(threshold, _selection!.LastWithin(x, default, _options.TopK));
        if (_options.MinP > 0) threshold = MathF.Max(threshold, MinPThreshold(x, _options.MinP));
        return threshold;
    }

    /// <summary>p ≥ min-p · p_max ⇔ logit ≥ max + ln(min-p): the smallest float at or above that bound.</summary>
    static float MinPThreshold(ReadOnlySpan<float> x, float minP)
    {
        double bound = TensorPrimitives.Max(x) + Math.Log(minP);
        float threshold = (float)bound;
        return threshold < bound ? MathF.BitIncrement(threshold) : threshold;
    }

    static unsafe void SoftMax(ReadOnlySpan<float> x, Span<float> p)
    {
        x.CopyTo(p);
        fixed (float* pp = p) Kernels.Vec.SoftMax(pp, p.Length);
    }
}
