namespace PldrGen.Runtime.Research;

/// <summary>The summed log-probability of a continuation and whether greedy decoding gives exactly it.</summary>
public sealed record LoglikelihoodResult(double LogProb, bool IsGreedy);

/// <summary>
/// lm-evaluation-harness's loglikelihood request as the authors' wrapper computes it: one causal forward over
/// context + continuation without any cache (A and G see the continuation too), the continuation's tokens scored
/// from the positions before them.
/// </summary>
public static class Loglikelihood
{
    public static LoglikelihoodResult Compute(IPldrModel model, ReadOnlySpan<int> context, ReadOnlySpan<int> continuation)
    {
        if (context.Length == 0) throw new PldrException("the context is empty: its last token is what predicts the continuation's first");
        if (continuation.Length == 0) throw new PldrException("the continuation is empty");
        int length = context.Length + continuation.Length, vocab = model.Info.Config.VocabSize;
        if (length > model.Info.Config.MaxPositionEmbeddings)
            throw new PldrException($"context + continuation are {length} tokens, more than the model's {model.Info.Config.MaxPositionEmbeddings} positions");
        var tokens = new int[length];
        context.CopyTo(tokens);
        continuation.CopyTo(tokens.AsSpan(context.Length));
        var logits = new float[length * vocab];
        model.Prefill(tokens, logits);
        double sum = 0;
        bool greedy = true;
        for (int p = context.Length; p < length; p++)
        {
            var row = logits.AsSpan((p - 1) * vocab, vocab);
            sum += LogProbabilities.Of(row, tokens[p]);
            greedy &= LogProbabilities.IsArgMax(row, tokens[p]);
        }
        return new LoglikelihoodResult(sum, greedy);
    }
}
