using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Text;

namespace PldrGen.Server;

/// <summary>
/// Everything the HTTP layer needs from the model: generation, prompt scoring (echo) and G-cache capture, with
/// slot accounting. The one seam between the server and whatever runs the sequences (see <see cref="ModelPoolGenerator"/>).
/// </summary>
interface ITextGenerator : IDisposable
{
    PldrModelInfo Model { get; }
    PldrTokenizer Tokenizer { get; }
    int Slots { get; }
    int SlotsBusy { get; }
    int Queued { get; }
    int QueueLimit { get; }

    /// <summary>
    /// Streams one sequence's tokens; the last carries its <see cref="SequenceToken.Finish"/>. Cancelling frees the
    /// slot at once.
    /// </summary>
    /// <exception cref="ServerBusyException">Every slot is busy and the queue is full (on the first MoveNextAsync).</exception>
    /// <exception cref="PldrException">The request is out of range; the message names the field.</exception>
    IAsyncEnumerable<SequenceToken> GenerateAsync(SequenceRequest request, CancellationToken cancel);

    /// <summary>
    /// One causal forward over <paramref name="tokens"/> without caches: for each position t ≥ 1, the log-probability of
    /// token t after tokens 0..t−1, and the <paramref name="top"/> likeliest alternatives there.
    /// </summary>
    Task<TokenScore[]> ScoreAsync(int[] tokens, int top, GSource g, CancellationToken cancel);

    /// <summary>The G-cache (A, A_LM, G_LM per layer) that the prefill of <paramref name="prompt"/> computes.</summary>
    Task<GCache> PrefillGCacheAsync(int[] prompt, CancellationToken cancel);
}

/// <summary>
/// One sequence: its prompt ids, how many tokens, how to draw them, when to stop, what to report. TopLogprobs null
/// means no logprobs; otherwise each token reports its logprob and that many alternatives (0..20).
/// </summary>
sealed record SequenceRequest(int[] Prompt, int MaxTokens, Sampling Sampling, IReadOnlyList<string> Stop, bool IgnoreEos, int? TopLogprobs, GSource G);

/// <summary>
/// How tokens are drawn, in OpenAI's terms extended as llama.cpp does. Temperature 0 is greedy; a null seed is drawn
/// at random.
/// </summary>
sealed record Sampling(float Temperature, float TopP, int TopK, float MinP, float RepetitionPenalty, float PresencePenalty, float FrequencyPenalty, int? Seed)
{
    public static Sampling Greedy { get; } = new(0, 1, 0, 0, 1, 0, 0, null);
}

/// <summary>Where a sequence's G_LM comes from (the PLDR extension).</summary>
abstract record GSource
{
    /// <summary>The prompt's own prefill: the paper's semantics.</summary>
    public static GSource Own { get; } = new OwnPrefill();

    public sealed record OwnPrefill : GSource;

    /// <summary>The G of the first prompt prefilled under this group name (the authors' cache_first_G).</summary>
    public sealed record FirstOfGroup(string Group) : GSource;

    /// <summary>A G-cache file the server was started with; the metric learner never runs.</summary>
    public sealed record Cached(string Name, GCache Cache) : GSource;
}

/// <summary>A generated token: its id, the text it completes (UTF-8-safe, stop strings held back), its logprobs if asked.</summary>
sealed record SequenceToken(int Id, string Text, TokenScore? Score, FinishReason? Finish);

/// <summary>
/// A token's log-probability under the model's own distribution (the softmax of its logits, before any sampling
/// filter) and the likeliest alternatives at that position, likeliest first.
/// </summary>
sealed record TokenScore(int Id, float LogProb, IReadOnlyList<TokenLogProb> Top);

/// <summary>Why a sequence ended, in OpenAI's words: <c>stop</c> (end token or stop string) or <c>length</c>.</summary>
enum FinishReason { Stop, Length }

/// <summary>Every slot is busy and the wait queue is full: the client should retry later.</summary>
sealed class ServerBusyException(string message) : Exception(message);
