using System.Text.Json.Serialization;

namespace PldrGen.CommandLine;

/// <summary>Source-generated JSON for the research commands' <c>--json</c> output (no reflection: NativeAOT-safe).</summary>
[JsonSerializable(typeof(ConvertReport))]
[JsonSerializable(typeof(string))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
partial class ResearchJson : JsonSerializerContext;

/// <summary>What <c>pldr convert --json</c> prints: the written path, "model" or "gcache", and the compiled spec it loads as.</summary>
sealed record ConvertReport(string Path, string Kind, int Tensors, long Parameters, string? Spec);
