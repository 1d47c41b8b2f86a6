namespace PldrGen.Runtime.Research;

/// <summary>Tokens of the text, tokens scored, mean negative log-likelihood per scored token, and exp of it.</summary>
public sealed record PerplexityResult(int Tokens, int Scored, double MeanNll, double Perplexity);

/// <summary>
/// Perplexity of a token sequence: windows of <c>window</c> tokens, each one causal forward without caches, starting
/// every <c>stride</c> tokens. A window scores the tokens no earlier window scored, never its own first token; with
/// stride = window the windows lie back to back and the first token of each goes unscored (the authors' usage).
/// </summary>
public static class Perplexity
{
    public static PerplexityResult Compute(IPldrModel model, int[] tokens, int window, int stride, Action<int, int>? progress = null)
    {
        if (tokens.Length < 2) throw new PldrException($"perplexity needs at least 2 tokens, the text has {tokens.Length}");
        int context = model.Info.Config.MaxPositionEmbeddings;
        if (window < 2 || window > context) throw new PldrException($"--window {window}: must be 2…{context} (the model's context)");
        if (stride < 1 || stride > window - 1 && stride != window) throw new PldrException($"--stride {stride}: must be 1…{window - 1}, or {window} (back to back)");

        int vocab = model.Info.Config.VocabSize;
        var logits = new float[window * vocab];
        double nll = 0;
        int scored = 0, scoredUpTo = 1; // tokens[0..scoredUpTo) are scored or can never be
        for (int start = 0; ; start += stride)
        {
            int end = Math.Min(start + window, tokens.Length);
            var chunk = tokens.AsSpan(start, end - start);
            model.Prefill(chunk, logits.AsSpan(0, chunk.Length * vocab));
            for (int p = Math.Max(scoredUpTo, start + 1); p < end; p++, scored++)
                nll -= LogProbabilities.Of(logits.AsSpan((p - start - 1) * vocab, vocab), tokens[p]);
            scoredUpTo = Math.Max(scoredUpTo, end);
            progress?.Invoke(end, tokens.Length);
            if (end == tokens.Length) break;
        }
        double mean = nll / scored;
        return new PerplexityResult(tokens.Length, scored, mean, Math.Exp(mean));
    }
}
