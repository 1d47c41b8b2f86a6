using System.Text.Json;

namespace PldrGen.Server;

/// <summary>
/// The body of <c>POST /v1/completions</c>, as OpenAI defines it, plus the sampling fields llama.cpp and vLLM add
/// (top_k, min_p, repetition_penalty, ignore_eos, return_token_ids) and the PLDR extensions in <c>pldr</c>.
/// <c>prompt</c> and <c>stop</c> stay JSON because OpenAI lets them be a string or a list.
/// </summary>
sealed record CompletionRequest : SamplingFields
{
    public string? Model { get; init; }
    public JsonElement Prompt { get; init; }
    public int? MaxTokens { get; init; }
    public int? Logprobs { get; init; }
    public bool Echo { get; init; }
    public bool ReturnTokenIds { get; init; }
}

/// <summary>The body of <c>POST /v1/chat/completions</c>: messages become one prompt (see <see cref="ChatPrompt"/>).</summary>
sealed record ChatRequest : SamplingFields
{
    public string? Model { get; init; }
    public List<ChatMessage>? Messages { get; init; }
    public int? MaxTokens { get; init; }
    public int? MaxCompletionTokens { get; init; }
    public bool Logprobs { get; init; }
    public int? TopLogprobs { get; init; }
}

/// <summary>A chat message; content is a string or a list of parts (only text parts are accepted).</summary>
sealed record ChatMessage(string? Role, JsonElement Content);

/// <summary>What both endpoints share: how tokens are drawn, how many choices, when to stop, streaming, PLDR options.</summary>
abstract record SamplingFields
{
    public float? Temperature { get; init; }
    public float? TopP { get; init; }
    public int? TopK { get; init; }
    public float? MinP { get; init; }
    public float? RepetitionPenalty { get; init; }
    public float? PresencePenalty { get; init; }
    public float? FrequencyPenalty { get; init; }
    public int? Seed { get; init; }
    public JsonElement Stop { get; init; }
    public int? N { get; init; }
    public bool Stream { get; init; }
    public StreamOptions? StreamOptions { get; init; }
    public bool IgnoreEos { get; init; }
    public string? User { get; init; }
    public PldrOptions? Pldr { get; init; }
}

sealed record StreamOptions(bool IncludeUsage);

/// <summary>
/// PLDR extensions (field <c>pldr</c>): where G_LM comes from. <c>g_policy</c> is <c>own</c> (the prompt's own
/// prefill, the paper's semantics and the default), <c>first_of_group</c> (the G of the first prompt prefilled under
/// <c>group</c>, the authors' cache_first_G), or <c>g_cache</c> (a G-cache file the server was started with, named by
/// <c>g_cache</c>; the metric learner never runs).
/// </summary>
sealed record PldrOptions(string? GPolicy, string? Group, string? GCache);

/// <summary>The body of <c>POST /v1/pldr/gcache</c>: a prompt (text or ids) whose prefill's G-cache is returned.</summary>
sealed record GCacheRequest(string? Model, JsonElement Prompt);
