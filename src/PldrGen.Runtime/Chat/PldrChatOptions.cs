using Microsoft.Extensions.AI;
using PldrGen.Runtime.Generation;

namespace PldrGen.Runtime.Chat;

/// <summary>
/// How <see cref="ChatOptions"/> become a request to the engine: Temperature, TopP, TopK, MaxOutputTokens, Seed,
/// StopSequences, FrequencyPenalty and PresencePenalty map to the same-named <see cref="GenerateOptions"/>; what is
/// not set keeps the engine's default; the PLDR options travel in <see cref="ChatOptions.AdditionalProperties"/>
/// under the keys below (at most one of them; any other <c>pldr.</c> key is refused as a likely typo).
/// </summary>
public static class PldrChatOptions
{
    /// <summary>A <see cref="Generation.GPolicy"/> object for the request's G_LM.</summary>
    public const string G = "pldr.g";

    /// <summary>A group name: the G of the first prompt prefilled under it (<see cref="GPolicy.FirstOfGroup"/>).</summary>
    public const string GGroup = "pldr.g_group";

    /// <summary>A G-cache file's path (<c>pldr gcache</c> writes one), loaded per request: the metric learner never runs.</summary>
    public const string GCacheFile = "pldr.g_cache_file";

    /// <summary>Set on each response: the seed the draws used, to repeat them.</summary>
    public const string Seed = "pldr.seed";

    const string Prefix = "pldr.";

    /// <summary>The engine's request for these options; the reply also stops at <see cref="BaseModelChat.Stops"/>.</summary>
    /// <exception cref="ArgumentException">An option cannot be mapped; the message names it.</exception>
    public static GenerateOptions ToGenerateOptions(ChatOptions? options)
    {
        var defaults = new GenerateOptions();
        if (options is null) return defaults with { Stop = BaseModelChat.Stops };
        var sampling = defaults.Sampling with
        {
            Temperature = options.Temperature ?? defaults.Sampling.Temperature,
            TopP = options.TopP ?? defaults.Sampling.TopP,
            TopK = options.TopK ?? defaults.Sampling.TopK,
            Seed = options.Seed is { } seed ? Int32Seed(seed) : null,
            FrequencyPenalty = options.FrequencyPenalty ?? 0,
            PresencePenalty = options.PresencePenalty ?? 0,
        };
        return defaults with
        {
            MaxTokens = options.MaxOutputTokens ?? defaults.MaxTokens,
            Sampling = sampling,
            Stop = [.. options.StopSequences ?? [], .. BaseModelChat.Stops],
            G = GPolicyOf(options.AdditionalProperties) ?? defaults.G,
        };

        static int Int32Seed(long seed) => seed is >= int.MinValue and <= int.MaxValue ? (int)seed
            : throw new ArgumentException($"ChatOptions.Seed: {seed} does not fit the engine's 32-bit seed", nameof(options));
    }

    static GPolicy? GPolicyOf(AdditionalPropertiesDictionary? properties)
    {
        GPolicy? policy = null;
        foreach (var (key, value) in properties ?? [])
        {
            if (!key.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            GPolicy given = (key, value) switch
            {
                (G, GPolicy p) => p,
                (GGroup, string { Length: > 0 } group) => GPolicy.FirstOfGroup(group),
                (GCacheFile, string { Length: > 0 } path) => GPolicy.FromFile(path),
                (G or GGroup or GCacheFile, _) => throw new ArgumentException(
                    $"ChatOptions.AdditionalProperties[\"{key}\"]: expected {(key == G ? "a GPolicy" : "a non-empty string")}, got {value?.GetType().Name ?? "null"}"),
                _ => throw new ArgumentException($"ChatOptions.AdditionalProperties[\"{key}\"]: not a PLDR option (known: {G}, {GGroup}, {GCacheFile})"),
            };
            if (policy is not null) throw new ArgumentException($"ChatOptions.AdditionalProperties: give at most one of {G}, {GGroup}, {GCacheFile}");
            policy = given;
        }
        return policy;
    }
}
