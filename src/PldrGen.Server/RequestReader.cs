using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using PldrGen.Runtime.Generation;

namespace PldrGen.Server;

/// <summary>Reads and checks what the request bodies share: the JSON itself, prompts, stop strings, sampling, G policy.</summary>
static class RequestReader
{
    /// <summary>The most characters one text prompt may have before it is tokenized.</summary>
    const int MaxPromptChars = 1 << 18;

    public static async Task<T> ReadAsync<T>(HttpContext http, JsonTypeInfo<T> type) where T : class =>
        await JsonSerializer.DeserializeAsync(http.Request.Body, type, http.RequestAborted)
        ?? throw new ApiException(400, "request body: expected a JSON object, got null");

    /// <summary>OpenAI's prompt: a string, a list of strings, a list of token ids, or a list of such lists.</summary>
    public static List<int[]> Prompts(JsonElement prompt, ServedModel served)
    {
        var prompts = prompt.ValueKind switch
        {
            JsonValueKind.String => [Text(prompt, served)],
            JsonValueKind.Array when prompt.GetArrayLength() == 0 => throw new ApiException(400, "prompt: an empty list", "prompt"),
            JsonValueKind.Array when prompt[0].ValueKind == JsonValueKind.Number => [Ids(prompt, served)],
            JsonValueKind.Array => prompt.EnumerateArray().Select(p => p.ValueKind switch
            {
                JsonValueKind.String => Text(p, served),
                JsonValueKind.Array => Ids(p, served),
                _ => throw new ApiException(400, "prompt: a list must hold strings or lists of token ids", "prompt"),
            }).ToList(),
            JsonValueKind.Undefined or JsonValueKind.Null => throw new ApiException(400, "prompt: required", "prompt"),
            _ => throw new ApiException(400, $"prompt: expected a string, a list of strings or token ids, got {prompt.ValueKind}", "prompt"),
        };
        foreach (var ids in prompts) CheckLength(ids, served, "prompt");
        return prompts;
    }

    public static int[] Text(JsonElement text, ServedModel served) => Text(text.GetString()!, served, "prompt");

    public static int[] Text(string text, ServedModel served, string field)
    {
        if (text.Length > MaxPromptChars) throw new ApiException(413, $"{field}: {text.Length} characters, more than the limit of {MaxPromptChars}", field);
        return served.Tokenizer.EncodePrompt(text);
    }

    static int[] Ids(JsonElement ids, ServedModel served)
    {
        int vocab = served.Options.Model.Config.VocabSize;
        if (ids.GetArrayLength() == 0) throw new ApiException(400, "prompt: a token list is empty", "prompt");
        return [.. ids.EnumerateArray().Select(id =>
            id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out int value) && value >= 0 && value < vocab ? value
            : throw new ApiException(400, $"prompt: {id.GetRawText()} is not a token id (0..{vocab - 1})", "prompt"))];
    }

    public static void CheckLength(int[] ids, ServedModel served, string field)
    {
        if (ids.Length > served.ContextSize)
            throw new ApiException(400, $"{field}: {ids.Length} tokens, more than the model's context of {served.ContextSize} positions", field, "context_length_exceeded");
    }

    /// <summary>OpenAI's stop: absent, a string, or a list of up to 4 (here 16) non-empty strings.</summary>
    public static List<string> Stops(JsonElement stop)
    {
        var stops = stop.ValueKind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null => [],
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array => stop.EnumerateArray().Select(s => s.ValueKind == JsonValueKind.String ? s.GetString()!
                : throw new ApiException(400, "stop: a list must hold strings", "stop")).ToList(),
            _ => throw new ApiException(400, $"stop: expected a string or a list of strings, got {stop.ValueKind}", "stop"),
        };
        if (stops.Count > 16) throw new ApiException(400, $"stop: at most 16 strings, got {stops.Count}", "stop");
        if (stops.Any(s => s.Length == 0)) throw new ApiException(400, "stop: strings must not be empty", "stop");
        return stops;
    }

    /// <summary>OpenAI's sampling fields (its defaults: temperature 1, top_p 1) and llama.cpp's, each checked by name.</summary>
    public static SamplingOptions Sampling(SamplingFields f)
    {
        var s = new SamplingOptions(f.Temperature ?? 1, f.TopK ?? 0, f.TopP ?? 1, f.Seed)
        {
            MinP = f.MinP ?? 0,
            RepetitionPenalty = f.RepetitionPenalty ?? 1,
            PresencePenalty = f.PresencePenalty ?? 0,
            FrequencyPenalty = f.FrequencyPenalty ?? 0,
        };
        if (!(s.Temperature >= 0 && float.IsFinite(s.Temperature))) throw new ApiException(400, $"temperature: must be ≥ 0, got {s.Temperature}", "temperature");
        if (!(s.TopP > 0 && s.TopP <= 1)) throw new ApiException(400, $"top_p: must be in (0, 1], got {s.TopP}", "top_p");
        if (s.TopK < 0) throw new ApiException(400, $"top_k: must be ≥ 0 (0 = off), got {s.TopK}", "top_k");
        if (!(s.MinP >= 0 && s.MinP < 1)) throw new ApiException(400, $"min_p: must be in [0, 1), got {s.MinP}", "min_p");
        if (!(s.RepetitionPenalty > 0 && float.IsFinite(s.RepetitionPenalty))) throw new ApiException(400, $"repetition_penalty: must be > 0, got {s.RepetitionPenalty}", "repetition_penalty");
        if (!(s.PresencePenalty is >= -2 and <= 2)) throw new ApiException(400, $"presence_penalty: must be in [-2, 2], got {s.PresencePenalty}", "presence_penalty");
        if (!(s.FrequencyPenalty is >= -2 and <= 2)) throw new ApiException(400, $"frequency_penalty: must be in [-2, 2], got {s.FrequencyPenalty}", "frequency_penalty");
        return s;
    }

    public static int MaxTokens(int? requested, int fallback, string field)
    {
        int max = requested ?? fallback;
        if (max < 0) throw new ApiException(400, $"{field}: must be ≥ 0, got {max}", field);
        return max;
    }

    /// <summary>n choices per prompt, bounded so that one request cannot take every slot many times over.</summary>
    public static int Choices(int? n, int prompts, ServedModel served)
    {
        int choices = n ?? 1;
        if (choices < 1) throw new ApiException(400, $"n: must be ≥ 1, got {choices}", "n");
        if ((long)choices * prompts > served.Options.MaxSequencesPerRequest)
            throw new ApiException(400, $"n × prompts = {(long)choices * prompts}, more than this server's {served.Options.MaxSequencesPerRequest} sequences per request", "n");
        return choices;
    }

    /// <summary>The PLDR extension <c>pldr</c>: which G_LM the sequence uses (a named G-cache implies g_policy g_cache).</summary>
    public static GPolicy G(PldrOptions? pldr, ServedModel served)
    {
        string policy = pldr?.GPolicy ?? (pldr?.GCache is null ? "own" : "g_cache");
        if (policy != "g_cache" && pldr?.GCache is not null)
            throw new ApiException(400, $"pldr.g_cache: only with g_policy g_cache, not {policy}", "pldr.g_cache");
        return policy switch
        {
            "own" => GPolicy.OwnPrefill,
            "first_of_group" => pldr!.Group is { Length: > 0 } group ? served.Group(group)
                : throw new ApiException(400, "pldr.group: g_policy first_of_group needs a group name", "pldr.group"),
            "g_cache" => pldr!.GCache is { } name && served.GCaches.TryGetValue(name, out var cache) ? GPolicy.FromCache(cache)
                : throw new ApiException(400, $"pldr.g_cache: no G-cache named '{pldr.GCache}' (this server was started with: {string.Join(", ", served.GCaches.Keys.DefaultIfEmpty("none"))})", "pldr.g_cache"),
            _ => throw new ApiException(400, $"pldr.g_policy: '{policy}' is not one of own, first_of_group, g_cache", "pldr.g_policy"),
        };
    }
}
