using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using PldrGen.Models;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Server;

namespace PldrGen.Bench;

/// <summary>
/// <c>pldr serve</c> under 16 concurrent streaming clients on the 110M shape (seeded random f32 weights, the 32k
/// tokenizer): 16 slots, each client a 128-token prompt and 64 greedy tokens over HTTP server-sent events. Interleaved
/// round by round with the same load on a <see cref="PldrEngine"/> called directly, so the table shows what HTTP,
/// JSON and SSE add: aggregate tokens/s, p50/p99 time to first token and p50/p99 time between tokens, as each
/// client sees them.
/// </summary>
static class ServeBench
{
    const int Clients = 16, PromptLength = 128, NewTokens = 64;

    /// <summary>When each of one stream's tokens arrived, from the moment its request was sent.</summary>
    sealed record Stream(TimeSpan FirstToken, List<TimeSpan> Gaps);

    sealed record Round(double TokensPerSecond, List<Stream> Streams);

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        string checkpoint = RandomCheckpoint.Create(PldrV51_110M.ModelInfo, PldrV51_110M.TensorManifest, bf16: false);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "pldr-refinedweb-32k.model"), Path.Combine(checkpoint, "tokenizer.model"), overwrite: true);
        var random = new Random(42);
        var prompts = Enumerable.Range(0, Clients).Select(_ => Enumerable.Range(0, PromptLength).Select(_ => random.Next(4, 32000)).ToArray()).ToArray();

        var server = PldrServer.Create(new PldrServerOptions { Model = PldrV51_110M.ModelInfo, ModelDirectory = checkpoint, Port = 0, Slots = Clients });
        server.StartAsync().GetAwaiter().GetResult();
        using var http = new HttpClient { BaseAddress = new Uri(server.Urls.First()), Timeout = TimeSpan.FromMinutes(10) };
        using var engine = PldrEngine.Load(PldrV51_110M.ModelInfo, checkpoint, new EngineOptions { Slots = Clients });
        var options = new GenerateOptions { MaxTokens = NewTokens, IgnoreEos = true, Sampling = SamplingOptions.Greedy };
        var variants = new (string Name, Func<int[], IAsyncEnumerable<bool>> Tokens)[]
        {
            ("pldr serve, HTTP SSE", prompt => SseTokens(http, prompt)),
            ("PldrEngine, in process", prompt => EngineTokens(engine, prompt, options)),
        };

        Console.WriteLine($"pldr serve bench: 110M f32, {Environment.ProcessorCount} cores, {Clients} slots and {Clients} concurrent streaming clients, " +
            $"prompt {PromptLength} tokens, {NewTokens} greedy tokens each, {rounds} interleaved rounds (after one warm-up)");
        var samples = variants.ToDictionary(v => v.Name, _ => new List<Round>());
        for (int round = -1; round < rounds; round++)
        {
            foreach (var (name, tokens) in variants)
            {
                var sample = MeasureAsync(prompts, tokens).GetAwaiter().GetResult();
                if (round >= 0) samples[name].Add(sample);
            }
            Console.Error.Write(round < 0 ? "warm-up done " : $"round {round + 1} ");
        }
        Console.Error.WriteLine();
        server.StopAsync().GetAwaiter().GetResult();

        Console.WriteLine("variant                   agg tok/s  TTFT p50 ms  TTFT p99 ms  gap p50 ms  gap p99 ms");
        foreach (var (name, _) in variants)
        {
            var s = samples[name];
            var firstTokens = s.SelectMany(r => r.Streams).Select(x => x.FirstToken.TotalMilliseconds).ToList();
            var gaps = s.SelectMany(r => r.Streams).SelectMany(x => x.Gaps).Select(g => g.TotalMilliseconds).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-24} {RatioReport.Median([.. s.Select(r => r.TokensPerSecond)]),10:F1} {Percentile(firstTokens, 50),12:F1} {Percentile(firstTokens, 99),12:F1} {Percentile(gaps, 50),11:F2} {Percentile(gaps, 99),11:F2}"));
        }
        Console.WriteLine("agg tok/s: every token of every stream ÷ the wall time from the first request to the last token (median of rounds);");
        Console.WriteLine("TTFT: request sent → first token received; gap: between consecutive tokens of one stream (percentiles over all rounds)");
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    /// <summary>Every prompt at once, each through <paramref name="tokens"/>, which yields once per token received.</summary>
    static async Task<Round> MeasureAsync(int[][] prompts, Func<int[], IAsyncEnumerable<bool>> tokens)
    {
        var clock = Stopwatch.StartNew();
        var streams = await Task.WhenAll(prompts.Select(prompt => Task.Run(async () =>
        {
            var start = clock.Elapsed;
            var arrivals = new List<TimeSpan>();
            await foreach (var _ in tokens(prompt)) arrivals.Add(clock.Elapsed);
            if (arrivals.Count != NewTokens) throw new InvalidOperationException($"a stream gave {arrivals.Count} tokens, not {NewTokens}");
            return new Stream(arrivals[0] - start, [.. arrivals.Skip(1).Select((t, i) => t - arrivals[i])]);
        })));
        return new Round(prompts.Length * NewTokens / clock.Elapsed.TotalSeconds, [.. streams]);
    }

    static async IAsyncEnumerable<bool> SseTokens(HttpClient http, int[] prompt)
    {
        string body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["prompt"] = prompt, ["max_tokens"] = NewTokens, ["temperature"] = 0, ["ignore_eos"] = true, ["stream"] = true,
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            if (line == "data: [DONE]") yield break;
            yield return true; // one chunk per generated token
        }
    }

    static async IAsyncEnumerable<bool> EngineTokens(PldrEngine engine, int[] prompt, GenerateOptions options)
    {
        await foreach (var _ in engine.GenerateAsync(prompt, options)) yield return true;
    }

    /// <summary>The nearest-rank percentile.</summary>
    static double Percentile(List<double> values, double percent)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
