using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Generation;

/// <summary>
/// Draws the next token of one sequence: penalties on the model's logits → temperature → the authors' top-p → top-k
/// (then min-p) → draw from the softmax of the tokens kept. Top-p, top-k and min-p each
/// keep a prefix of the logits in descending order, so applying them in that order keeps the shortest of the three
/// prefixes: the sampler finds each prefix's smallest logit by partial selection, never sorting the vocabulary.
/// Buffers are allocated once per sequence, and a seed gives the same draws every run.
/// </summary>
public sealed class Sampler
{
    readonly SamplingOptions _options;
    readonly Random _random;
    readonly float[] _logits, _probabilities;
    readonly DescendingSelection? _selection;
    readonly TokenPenalties? _penalties;

    /// <summary>A sampler for one sequence whose prompt the repetition penalty does not see.</summary>
    public Sampler(SamplingOptions options, int vocabSize) : this(options, vocabSize, []) { }

    /// <summary>A sampler for one sequence; the repetition penalty counts <paramref name="prompt"/>'s tokens as seen.</summary>
    public Sampler(SamplingOptions options, int vocabSize, ReadOnlySpan<int> prompt)
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
        var p = Distribution(x, out float threshold, out double keptTotal);
        // u scaled to the kept tokens' total: the same draw as normalising their probabilities first
        int token = Walk(x, p, threshold, _random.NextDouble() * keptTotal);
        return token >= 0 ? token : TensorPrimitives.IndexOfMax(p); // rounding left u above the total: take the likeliest
    }

    /// <summary>
    /// The first token at which the running sum of the kept tokens' p, in vocabulary order, exceeds u; −1 if none.
    /// A dropped token adds +0, which leaves a double sum exactly as it was, so eight tokens are masked at once and
    /// only the additions stay one after another.
    /// </summary>
    static int Walk(ReadOnlySpan<float> x, ReadOnlySpan<float> p, float threshold, double u)
    {
        double cumulative = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var bound = Vector256.Create(threshold);
            Span<float> kept = stackalloc float[Vector256<float>.Count];
            for (; i + Vector256<float>.Count <= p.Length; i += Vector256<float>.Count)
            {
                var keep = Vector256.GreaterThanOrEqual(Vector256.Create(x.Slice(i, Vector256<float>.Count)), bound);
                if (keep == Vector256<float>.Zero) continue;
                (Vector256.Create(p.Slice(i, Vector256<float>.Count)) & keep).CopyTo(kept);
                for (int j = 0; j < kept.Length; j++)
                {
                    cumulative += kept[j];
                    if (u < cumulative) return i + j;
                }
            }
        }
        for (; i < p.Length; i++)
        {
            if (x[i] < threshold) continue;
            cumulative += p[i];
            if (u < cumulative) return i;
        }
        return -1;
    }

    /// <summary>The distribution the next draw uses (one-hot when greedy), without drawing: for tests.</summary>
    internal float[] Probabilities(ReadOnlySpan<float> logits)
    {
        var x = Penalized(logits);
        var probabilities = new float[x.Length];
        if (_options.IsGreedy)
        {
            probabilities[TensorPrimitives.IndexOfMax(x)] = 1;
            return probabilities;
        }
        var p = Distribution(x, out float threshold, out double keptTotal);
        for (int i = 0; i < x.Length; i++) probabilities[i] = x[i] < threshold ? 0 : (float)(p[i] / keptTotal);
        return probabilities;
    }

    /// <summary>The logits after the penalties and the temperature: the model's own span when neither applies.</summary>
    ReadOnlySpan<float> Penalized(ReadOnlySpan<float> logits)
    {
        if (_penalties is null && (_options.IsGreedy || _options.Temperature == 1)) return logits;
        var x = _logits.AsSpan(0, logits.Length);
        logits.CopyTo(x);
        _penalties?.Apply(x);
        if (!_options.IsGreedy && _options.Temperature != 1) TensorPrimitives.Divide(x, _options.Temperature, x);
        return x;
    }

    /// <summary>
    /// The softmax p of the tempered logits; top-p, top-k and min-p keep the tokens whose logit is ≥ the threshold (the
    /// authors' −1e10 for the rest, renormalised, is the same distribution): p, the threshold and the kept total.
    /// </summary>
    Span<float> Distribution(ReadOnlySpan<float> x, out float threshold, out double keptTotal)
    {
        var p = _probabilities.AsSpan(0, x.Length);
        SoftMax(x, p);
        threshold = float.NegativeInfinity;
        if (_options.TopP < 1) threshold = _selection!.LastWithin(x, p, _options.TopP * Total(p, x, threshold));
        if (_options.TopK > 0 && _options.TopK < x.Length) threshold = MathF.Max(threshold, _selection!.LastWithin(x, default, _options.TopK));
        if (_options.MinP > 0) threshold = MathF.Max(threshold, MinPThreshold(x, _options.MinP));
        keptTotal = Total(p, x, threshold);
        return p;
    }

    /// <summary>
    /// Σ p over the tokens whose logit is ≥ threshold, in double (the float softmax sums to 1 only within its rounding):
    /// four partial sums, token i into sum i mod 4, one double lane each; a dropped token adds +0, which changes no sum.
    /// </summary>
    static double Total(ReadOnlySpan<float> p, ReadOnlySpan<float> x, float threshold)
    {
        var sums = Vector256<double>.Zero;
        var bound = Vector256.Create(threshold);
        int i = 0;
        for (; Vector256.IsHardwareAccelerated && i + Vector256<float>.Count <= p.Length; i += Vector256<float>.Count)
        {
            var keep = Vector256.GreaterThanOrEqual(Vector256.Create(x.Slice(i, Vector256<float>.Count)), bound);
            var (first, second) = Vector256.Widen(Vector256.Create(p.Slice(i, Vector256<float>.Count)) & keep);
            sums += first;
            sums += second;
        }
        double s0 = sums[0], s1 = sums[1], s2 = sums[2], s3 = sums[3];
        for (; i + 4 <= p.Length; i += 4)
        {
            if (x[i] >= threshold) s0 += p[i];
            if (x[i + 1] >= threshold) s1 += p[i + 1];
            if (x[i + 2] >= threshold) s2 += p[i + 2];
            if (x[i + 3] >= threshold) s3 += p[i + 3];
        }
        for (; i < p.Length; i++)
            if (x[i] >= threshold) s0 += p[i];
        return s0 + s1 + (s2 + s3);
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
