using System.Numerics.Tensors;

namespace PldrGen.Runtime.Generation;

/// <summary>A token and its log-probability under the model.</summary>
public readonly record struct TokenLogProb(int Id, float LogProb);

/// <summary>
/// Log-probabilities under the model's own distribution (the softmax of its logits, before penalties, temperature
/// and filtering), so they do not depend on how a token was drawn.
/// </summary>
static class TokenLogProbs
{
    /// <summary>The most alternatives a step reports, as OpenAI's top_logprobs.</summary>
    public const int MaxTop = 20;

    /// <summary>log Σ e^x, computed around the maximum so it neither overflows nor underflows.</summary>
    public static float LogSumExp(ReadOnlySpan<float> logits)
    {
        float max = TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        return (float)(max + Math.Log(sum));
    }

    /// <summary>The <paramref name="count"/> likeliest tokens, likeliest first (ties: lower id first), in one pass; none for 0.</summary>
    public static TokenLogProb[] Top(ReadOnlySpan<float> logits, float logSumExp, int count)
    {
        if (count <= 0) return [];
        var top = new TokenLogProb[Math.Min(count, logits.Length)];
        int filled = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float x = logits[i];
            if (filled == top.Length && x <= top[^1].LogProb) continue;
            int at = Math.Min(filled, top.Length - 1);
            while (at > 0 && top[at - 1].LogProb < x) { top[at] = top[at - 1]; at--; }
            top[at] = new TokenLogProb(i, x);
            filled = Math.Min(filled + 1, top.Length);
        }
        for (int i = 0; i < top.Length; i++) top[i] = top[i] with { LogProb = top[i].LogProb - logSumExp };
        return top;
    }
}
