using System.Diagnostics;

namespace PldrGen.Runtime.Generation;

/// <summary>What one generation run does.</summary>
public sealed record GenerationOptions(
    int MaxNewTokens,
    SamplingOptions Sampling,
    bool IgnoreEos = false,
    bool KeepLogits = false,
    int EosToken = 3,
    float[]? PrefillLogits = null);

/// <summary>The tokens drawn, optionally the logits each was drawn from, and the timings.</summary>
public sealed class GenerationResult
{
    public required int[] Prompt { get; init; }
    public List<int> Tokens { get; } = [];
    /// <summary>Row t: the logits token t was drawn from (row 0 = the prompt's last position). Empty unless asked for.</summary>
    public List<float[]> Logits { get; } = [];
    public TimeSpan PrefillTime { get; set; }
    public TimeSpan DecodeTime { get; set; }
    public int DecodeSteps { get; set; }
    /// <summary>True when generation stopped because the context (max_position_embeddings) was full.</summary>
    public bool ContextFull { get; set; }
    /// <summary>True when the cancellation token stopped generation early (Ctrl-C).</summary>
    public bool Cancelled { get; set; }
    /// <summary>The G-cache right after prefill (the A, A_LM and G_LM every cached step used).</summary>
    public Checkpoints.GCache? PrefillGCache { get; set; }
}

/// <summary>The generation loop: prefill the prompt, then draw and decode one token at a time.</summary>
public static class TextGeneration
{
    public static GenerationResult Run(IPldrModel model, int[] prompt, GenerationOptions options, Action<int>? onToken = null, CancellationToken cancel = default)
    {
        if (options.MaxNewTokens < 0) throw new PldrException($"--max-new-tokens must be ≥ 0, got {options.MaxNewTokens}");
        var sampler = new Sampler(options.Sampling, model.Info.Config.VocabSize);
        var result = new GenerationResult { Prompt = prompt };
        int maxPositions = model.Info.Config.MaxPositionEmbeddings;
        if (prompt.Length > maxPositions)
            throw new PldrException($"the prompt has {prompt.Length} tokens, more than the model's context of {maxPositions} positions");

        var clock = Stopwatch.StartNew();
        ReadOnlySpan<float> logits;
        if (options.PrefillLogits is { } all)
        {
            // Every position's logits (for --dump); the last row starts the generation.
            int vocab = model.Info.Config.VocabSize;
            model.Prefill(prompt, all.AsSpan(0, prompt.Length * vocab));
            logits = all.AsSpan((prompt.Length - 1) * vocab, vocab);
        }
        else logits = model.Prefill(prompt);
        result.PrefillTime = clock.Elapsed;
        if (options.KeepLogits) result.PrefillGCache = model.CaptureGCache();
        clock.Restart();
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            if (options.KeepLogits) result.Logits.Add(logits.ToArray());
            int token = sampler.Next(logits);
            result.Tokens.Add(token);
            onToken?.Invoke(token);
            if (token == options.EosToken && !options.IgnoreEos) break;
            if (step == options.MaxNewTokens - 1) break;
            if (cancel.IsCancellationRequested)
            {
                result.Cancelled = true;
                break;
            }
            if (model.Position >= maxPositions)
            {
                result.ContextFull = true;
                break;
            }
            logits = model.Decode(token);
            result.DecodeSteps++;
        }
        result.DecodeTime = clock.Elapsed;
        return result;
    }
}
