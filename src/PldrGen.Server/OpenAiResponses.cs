using System.Text.Json.Serialization;

namespace PldrGen.Server;

/// <summary>A completion, or one chunk of a streamed one (<c>object</c> tells which), in OpenAI's shape.</summary>
sealed record CompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<CompletionChoice> Choices, Usage? Usage);

sealed record CompletionChoice(int Index, string Text, CompletionLogprobs? Logprobs, string? FinishReason)
{
    /// <summary>The generated token ids, when the request set return_token_ids (as vLLM does).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? TokenIds { get; init; }
}

/// <summary>OpenAI's legacy logprobs: parallel lists, the first prompt token's logprob null under echo.</summary>
sealed record CompletionLogprobs(List<string> Tokens, List<float?> TokenLogprobs, List<Dictionary<string, float>?> TopLogprobs, List<int> TextOffset);

sealed record ChatResponse(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage? Usage);

sealed record ChatChoice(int Index, ChatReply Message, ChatLogprobs? Logprobs, string? FinishReason);

sealed record ChatChunk(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices, Usage? Usage);

sealed record ChatChunkChoice(int Index, ChatDelta Delta, ChatLogprobs? Logprobs, string? FinishReason);

sealed record ChatReply(string Role, string Content);

sealed record ChatDelta
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Role { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Content { get; init; }
}

sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);

/// <summary>A token's logprob in a chat reply; <c>bytes</c> are its UTF-8 bytes as numbers, as OpenAI sends them.</summary>
sealed record ChatTokenLogprob(string Token, float Logprob, int[] Bytes, IReadOnlyList<ChatTopLogprob> TopLogprobs);

sealed record ChatTopLogprob(string Token, float Logprob, int[] Bytes);

sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

sealed record ModelList(string Object, IReadOnlyList<ModelCard> Data);

/// <summary>A model as /v1/models lists it, with its context length and slots as PLDR fields.</summary>
sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, int ContextLength, int Slots);

sealed record Health(string Status, int Slots, int SlotsBusy, int Queued, int QueueLimit);

/// <summary>OpenAI's error body: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
sealed record ErrorBody(ErrorDetail Error);

sealed record ErrorDetail(string Message, string Type, string? Param, string? Code);
