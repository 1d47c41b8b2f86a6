using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Generation;

namespace PldrGen.Runtime.Engine;

/// <summary>
/// Work that needs a whole forward of its own rather than a slot's decode steps: scoring a text and capturing a
/// prompt's G-cache. It runs on one more instance over the slots' weights (its own caches and scratch, made at the
/// first call), one job at a time, beside the scheduler, so it neither takes a slot nor disturbs a running sequence.
/// </summary>
public sealed partial class PldrEngine
{
    readonly SemaphoreSlim _jobTurn = new(1, 1);
    IPldrModel? _jobModel; // touched only while holding _jobTurn

    /// <summary>
    /// lm-evaluation-harness's loglikelihood: one causal forward over <paramref name="text"/> without caches; score t
    /// is the log-probability of token t + 1 after tokens 0..t, with the <paramref name="topLogProbs"/> likeliest
    /// alternatives there (0 to 20). The G_LM comes from <paramref name="g"/> (a group's G if it has one, else the text's own).
    /// </summary>
    /// <exception cref="PldrException">The text is empty, longer than the context or holds a token outside the vocabulary.</exception>
    public Task<TokenScore[]> ScoreAsync(Prompt text, int topLogProbs = 0, GPolicy? g = null, CancellationToken cancellationToken = default)
    {
        if (topLogProbs is < 0 or > TokenLogProbs.MaxTop) throw new PldrException($"top logprobs must be in 0..{TokenLogProbs.MaxTop}, got {topLogProbs}");
        int[] tokens = CheckedTokens(text);
        return RunJobAsync(model =>
        {
            if (InjectedG(g ?? GPolicy.OwnPrefill) is { } inject) model.InjectGCache(inject);
            else model.ClearInjectedGCache();
            int vocab = Info.Config.VocabSize;
            var logits = new float[tokens.Length * vocab];
            model.Prefill(tokens, logits);
            var scores = new TokenScore[tokens.Length - 1];
            for (int t = 0; t < scores.Length; t++)
            {
                var row = logits.AsSpan(t * vocab, vocab);
                float logSumExp = TokenLogProbs.LogSumExp(row);
                int next = tokens[t + 1];
                scores[t] = new TokenScore(next, row[next] - logSumExp, topLogProbs > 0 ? TokenLogProbs.Top(row, logSumExp, topLogProbs) : []);
            }
            return scores;
        }, cancellationToken);
    }

    /// <summary>The G-cache (A, A_LM, G_LM per layer) that the prefill of <paramref name="prompt"/> computes, as <c>pldr gcache</c> saves it.</summary>
    /// <exception cref="PldrException">The prompt is empty, longer than the context or holds a token outside the vocabulary.</exception>
    public Task<GCache> CaptureGCacheAsync(Prompt prompt, CancellationToken cancellationToken = default)
    {
        int[] tokens = CheckedTokens(prompt);
        return RunJobAsync(model =>
        {
            model.ClearInjectedGCache();
            model.Prefill(tokens);
            return model.CaptureGCache();
        }, cancellationToken);
    }

    int[] CheckedTokens(Prompt prompt)
    {
        int[] tokens = Encode(prompt);
        GenerationSequence.CheckPrompt(tokens, Info.Config.VocabSize, Info.Config.MaxPositionEmbeddings);
        return tokens;
    }

    async Task<T> RunJobAsync<T>(Func<IPldrModel, T> job, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _jobTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _jobModel ??= _slots[0].Model is ICpuModel cpu ? cpu.Share()
                : throw new PldrException($"{Info.Name}: scoring and G-cache capture run beside the slots on a CPU model's shared weights; this engine's model is not a CPU model");
            var model = _jobModel;
            return await Task.Run(() => job(model), cancellationToken).ConfigureAwait(false);
        }
        finally { _jobTurn.Release(); }
    }
}
