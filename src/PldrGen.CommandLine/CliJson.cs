using System.Text.Json.Serialization;

namespace PldrGen.CommandLine;

/// <summary>Source-generated JSON (no reflection, so it works in the NativeAOT binary).</summary>
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(RunStats))]
[JsonSerializable(typeof(BatchRequest))]
[JsonSerializable(typeof(BatchResult))]
[JsonSerializable(typeof(BatchStats))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
partial class CliJson : JsonSerializerContext;

/// <summary>What <c>--stats</c> prints as the last line on stderr.</summary>
sealed record RunStats(
    string Model, string Device, string CacheMode, double LoadMs, double WarmupMs,
    int PrefillTokens, double PrefillMs, double PrefillTokensPerSecond,
    int DecodeTokens, double DecodeMs, double DecodeTokensPerSecond, int GeneratedTokens, double PeakMemoryMib);
