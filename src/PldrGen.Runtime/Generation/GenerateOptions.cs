namespace PldrGen.Runtime.Generation;

/// <summary>What one request asks of the engine: how many tokens, how to draw them, when to stop, what to report.</summary>
public sealed record GenerateOptions
{
    /// <summary>Tokens to generate at most (≥ 1); fewer when the sequence ends, a stop string appears or the context is full.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>How each token is drawn; by default the command line's top-p 0.9, with a random seed the result reports.</summary>
    public SamplingOptions Sampling { get; init; } = new(TopP: 0.9f);

    /// <summary>Generation stops when the decoded output contains one of these; the text ends before it.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Keep generating after the end token [END].</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Report each token's log-probability under the model (<see cref="GeneratedToken.LogProb"/>).</summary>
    public bool LogProbs { get; init; }

    /// <summary>With <see cref="LogProbs"/>: also the likeliest alternatives at each step, 0 to <see cref="MaxTopLogProbs"/>.</summary>
    public int TopLogProbs { get; init; }

    /// <summary>The most alternatives a step reports (OpenAI's top_logprobs limit).</summary>
    public const int MaxTopLogProbs = TokenLogProbs.MaxTop;

    /// <summary>Return the logits each token was drawn from (<see cref="GeneratedToken.Logits"/>, V floats a token).</summary>
    public bool ReturnLogits { get; init; }

    /// <summary>Where the sequence's G_LM comes from: its own prefill (the paper's semantics) unless set.</summary>
    public GPolicy G { get; init; } = GPolicy.OwnPrefill;

    /// <exception cref="PldrException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (MaxTokens < 1) throw new PldrException($"max tokens must be ≥ 1, got {MaxTokens}");
        Sampling.Validate();
        if (TopLogProbs is < 0 or > TokenLogProbs.MaxTop) throw new PldrException($"top logprobs must be in 0..{TokenLogProbs.MaxTop}, got {TopLogProbs}");
        if (TopLogProbs > 0 && !LogProbs) throw new PldrException("top logprobs needs logprobs on");
        foreach (string stop in Stop)
            if (string.IsNullOrEmpty(stop)) throw new PldrException("a stop string must not be empty");
    }
}

/// <summary>Where a sequence's G_LM (and frozen A) come from.</summary>
public abstract record GPolicy
{
    GPolicy() { }

    /// <summary>The sequence's own prefill computes G: the paper's semantics, and what a sequence run alone does.</summary>
    public static GPolicy OwnPrefill { get; } = new Own();

    /// <summary>The G of the first prompt prefilled in <paramref name="group"/> (the authors' cache_first_G for a batch).</summary>
    public static GPolicy FirstOfGroup(string group) => new Group(group);

    /// <summary>A saved G-cache (see <c>pldr gcache</c>): the metric learner never runs.</summary>
    public static GPolicy FromCache(Checkpoints.GCache cache) => new Cached(cache);

    /// <summary>A G-cache file, loaded now.</summary>
    public static GPolicy FromFile(string path) => new Cached(Checkpoints.GCache.Load(path));

    public sealed record Own : GPolicy;
    public sealed record Group(string Name) : GPolicy;
    public sealed record Cached(Checkpoints.GCache Cache) : GPolicy;
}
