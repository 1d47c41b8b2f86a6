namespace PldrGen.Runtime.Research;

/// <summary>Log-softmax of one logits row, in double (the sums of a whole text's NLL must not drift).</summary>
public static class LogProbabilities
{
    /// <summary>log p(token) = logit[token] − log Σ exp(logit).</summary>
    public static double Of(ReadOnlySpan<float> logits, int token)
    {
        double max = double.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        return logits[token] - max - Math.Log(sum);
    }

    /// <summary>True when <paramref name="token"/> is the first largest logit (what greedy decoding picks).</summary>
    public static bool IsArgMax(ReadOnlySpan<float> logits, int token)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best == token;
    }
}
