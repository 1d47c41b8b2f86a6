using PldrGen.Runtime.Generation;

namespace PldrGen.Tests.Generation;

/// <summary>
/// The plain sampler the fast one must equal: every step written out as the options document it, the whole
/// vocabulary sorted, probabilities and cumulative sums in double. Penalties and temperature are float arithmetic
/// on float logits, as specified, so they are computed the same way here.
/// </summary>
static class ReferenceSampler
{
    /// <summary>Float32 rounding can put a top-p boundary either side when the cumulative sum is this close to p.</summary>
    const double Ambiguity = 1e-6;

    /// <summary>The next draw's distribution, and whether float32 rounding may legitimately decide its top-p boundary.</summary>
    public static (double[] Probabilities, bool Ambiguous) Distribution(float[] logits, SamplingOptions o, IReadOnlyList<int> prompt, IReadOnlyList<int> output)
    {
        var x = Penalized(logits, o, prompt, output);
        int v = x.Length;
        var p = new double[v];
        if (o.TopK == 1 || o.Temperature == 0)
        {
            p[Array.IndexOf(x, x.Max())] = 1;
            return (p, false);
        }
        if (o.Temperature != 1)
            for (int i = 0; i < v; i++) x[i] /= o.Temperature;

        var order = Enumerable.Range(0, v).OrderByDescending(i => x[i]).ToArray();
        double max = x[order[0]];
        var e = x.Select(xi => Math.Exp(xi - max)).ToArray();
        double total = e.Sum();
        double threshold = double.NegativeInfinity;
        bool ambiguous = false;
        if (o.TopP < 1)
        {
            int kept = 0;
            double cumulative = 0, last = 0;
            foreach (int i in order)
            {
                (last, cumulative) = (cumulative, cumulative + e[i] / total);
                if (cumulative <= o.TopP) kept++;
                else break;
            }
            // Only the sums either side of the cut decide it.
            ambiguous = Math.Abs(cumulative - o.TopP) < Ambiguity || (kept > 0 && Math.Abs(last - o.TopP) < Ambiguity);
            threshold = x[order[Math.Max(kept, 1) - 1]];
        }
        if (o.TopK > 0 && o.TopK < v) threshold = Math.Max(threshold, x[order[o.TopK - 1]]);
        double keptTotal = 0;
        for (int i = 0; i < v; i++)
            if (x[i] >= threshold && e[i] >= o.MinP) keptTotal += e[i];
        for (int i = 0; i < v; i++)
            p[i] = x[i] >= threshold && e[i] >= o.MinP ? e[i] / keptTotal : 0;
        return (p, ambiguous);
    }

    /// <summary>The token a uniform draw <paramref name="u"/> picks, and whether u lies within rounding of a boundary.</summary>
    public static (int Token, bool Ambiguous) Draw(double[] p, double u)
    {
        double cumulative = 0;
        for (int i = 0; i < p.Length; i++)
        {
            cumulative += p[i];
            if (u < cumulative) return (i, cumulative - u < Ambiguity || (cumulative - p[i] > 0 && u - (cumulative - p[i]) < Ambiguity));
        }
        return (Array.IndexOf(p, p.Max()), true);
    }

    static float[] Penalized(float[] logits, SamplingOptions o, IReadOnlyList<int> prompt, IReadOnlyList<int> output)
    {
        var x = (float[])logits.Clone();
        foreach (int t in prompt.Concat(output).Distinct())
        {
            if (o.RepetitionPenalty != 1) x[t] = x[t] > 0 ? x[t] / o.RepetitionPenalty : x[t] * o.RepetitionPenalty;
            int count = output.Count(id => id == t);
            if (count > 0) x[t] -= o.PresencePenalty + count * o.FrequencyPenalty;
        }
        return x;
    }
}
