using System.Numerics.Tensors;

namespace PldrGen.Server;

/// <summary>Log-probabilities from one position's logits, computed around the maximum so nothing overflows.</summary>
static class LogProbs
{
    /// <summary>The most alternatives one position reports (OpenAI's top_logprobs limit).</summary>
    public const int MaxTop = 20;

    public static TokenScore Score(ReadOnlySpan<float> logits, int id, int top)
    {
        float max = TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        float logSumExp = (float)(max + Math.Log(sum));
        return new TokenScore(id, logits[id] - logSumExp, Likeliest(logits, top, logSumExp));
    }

    /// <summary>The <paramref name="count"/> likeliest ids, likeliest first (ties: lower id first).</summary>
    static (int, float)[] Likeliest(ReadOnlySpan<float> logits, int count, float logSumExp)
    {
        if (count <= 0) return [];
        var kept = new PriorityQueue<int, float>(count + 1); // a min-heap: the smallest kept logit leaves first
        for (int i = 0; i < logits.Length; i++)
        {
            if (kept.Count == count && kept.TryPeek(out _, out float smallest) && logits[i] <= smallest) continue;
            kept.Enqueue(i, logits[i]);
            if (kept.Count > count) kept.Dequeue();
        }
        var best = new (int Id, float Logit)[kept.Count];
        for (int i = 0; i < best.Length; i++) kept.TryDequeue(out best[i].Id, out best[i].Logit);
        Array.Sort(best, static (a, b) => a.Logit != b.Logit ? b.Logit.CompareTo(a.Logit) : a.Id.CompareTo(b.Id));
        return Array.ConvertAll(best, b => (b.Id, b.Logit - logSumExp));
    }
}
