using System.Text.Json.Serialization;

namespace PldrGen.Server;

/// <summary>Source-generated JSON for every body the server reads or writes (no reflection: NativeAOT-clean).</summary>
[JsonSerializable(typeof(CompletionRequest))]
[JsonSerializable(typeof(ChatRequest))]
[JsonSerializable(typeof(GCacheRequest))]
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(ChatResponse))]
[JsonSerializable(typeof(ChatChunk))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(Health))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
partial class ServerJson : JsonSerializerContext;
