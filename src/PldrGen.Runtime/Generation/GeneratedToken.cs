namespace PldrGen.Runtime.Generation;

/// <summary>
/// One generated token as it streams. <see cref="Text"/> is the text it completes: UTF-8-safe (empty while a
/// character's bytes are still incomplete) and held back while it could begin a stop string, so the pieces
/// concatenate to exactly the result's text.
/// </summary>
public sealed record GeneratedToken(int Id, string Text)
{
    /// <summary>Its log-probability under the model, when <see cref="GenerateOptions.LogProbs"/> asked for it.</summary>
    public float? LogProb { get; init; }

    /// <summary>The likeliest tokens at this step, likeliest first, when <see cref="GenerateOptions.TopLogProbs"/> &gt; 0.</summary>
    public IReadOnlyList<TokenLogProb>? TopLogProbs { get; init; }

    /// <summary>The model's logits this token was drawn from, when <see cref="GenerateOptions.ReturnLogits"/> asked for them.</summary>
    public float[]? Logits { get; init; }

    /// <summary>Set on a sequence's last token: why it stopped, its seed and timings.</summary>
    public GenerateFinish? Finish { get; init; }
}

/// <summary>Why a sequence stopped.</summary>
public enum StopReason
{
    /// <summary>It generated the end token [END].</summary>
    EndToken,
    /// <summary>It generated <see cref="GenerateOptions.MaxTokens"/> tokens.</summary>
    Length,
    /// <summary>Its text reached one of <see cref="GenerateOptions.Stop"/>.</summary>
    StopString,
    /// <summary>The model's context (max_position_embeddings) is full.</summary>
    ContextFull,
    /// <summary>The caller cancelled it.</summary>
    Cancelled,
}

/// <summary>How a sequence ended: the reason, the seed its draws used (to repeat them), and its timings.</summary>
public sealed record GenerateFinish(StopReason Reason, int Seed, GenerateTimings Timings);

/// <summary>
/// A sequence's timings: waiting for a slot, prefill (the time spent computing the prompt; a chunked prefill's stages
/// have other sequences' decode steps between them, not counted here), time to the first token (from the request),
/// and decode.
/// </summary>
public sealed record GenerateTimings(int PromptTokens, int GeneratedTokens, TimeSpan Queued, TimeSpan Prefill, TimeSpan FirstToken, TimeSpan Decode)
{
    /// <summary>Decode tokens per second (the first token comes from the prefill, so it is not counted).</summary>
    public double DecodeTokensPerSecond => GeneratedTokens > 1 && Decode > TimeSpan.Zero ? (GeneratedTokens - 1) / Decode.TotalSeconds : 0;
}

/// <summary>A finished sequence: its text (stop string excluded), every generated token, and how it ended.</summary>
public sealed record GenerateResult(string Text, IReadOnlyList<GeneratedToken> Tokens, GenerateFinish Finish)
{
    public StopReason StopReason => Finish.Reason;
    public int Seed => Finish.Seed;
    public GenerateTimings Timings => Finish.Timings;
    public int[] TokenIds => [.. Tokens.Select(t => t.Id)];
}
