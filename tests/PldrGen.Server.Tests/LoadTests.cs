using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace PldrGen.Server.Tests;

/// <summary>
/// 64 concurrent clients, 1,200 mixed requests (streaming and not, greedy and sampled, random lengths, some
/// cancelled midway): none lost or duplicated, every greedy answer exact, no slot leaked, memory flat after warm-up.
/// </summary>
public sealed class LoadTests(ITestOutputHelper output)
{
    const int Clients = 64, Requests = 1200, WarmUp = 200;

    enum Kind { Greedy, GreedyStream, Sampled, Cancelled }

    sealed record Outcome(int Index, Kind Kind, string Prompt, int MaxTokens, string? Id, int[]? Tokens);

    [Fact]
    public async Task Sixty_four_clients_and_1200_mixed_requests_lose_nothing_and_stay_exact()
    {
        var references = GreedyReference.Prompts.ToDictionary(p => p, p => GreedyReference.Tokens(p)); // before the clock starts
        using var server = new ServerProcess("--slots", "4", "--queue", "1024");
        var outcomes = new ConcurrentBag<Outcome>();
        int next = -1;
        long warmRss = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < Requests;)
            {
                outcomes.Add(await SendAsync(server.Http, i));
                if (i == WarmUp) Interlocked.Exchange(ref warmRss, server.ResidentBytes());
            }
        })));
        output.WriteLine($"{Requests} requests from {Clients} clients in {clock.Elapsed.TotalSeconds:F1} s");

        Assert.Equal(Requests, outcomes.Count);
        Assert.Equal(Requests, outcomes.Select(o => o.Index).Distinct().Count());
        var answered = outcomes.Where(o => o.Kind != Kind.Cancelled).ToList();
        Assert.All(answered, o => Assert.NotNull(o.Id));
        Assert.Equal(answered.Count, answered.Select(o => o.Id).Distinct().Count()); // no response delivered twice
        foreach (var o in answered.Where(o => o.Kind is Kind.Greedy or Kind.GreedyStream))
            Assert.Equal(references[o.Prompt].Take(o.MaxTokens), o.Tokens!);
        Assert.Contains(outcomes, o => o.Kind == Kind.Cancelled);

        // A cancelled sequence frees its slot once the server notices its client left: give that a few seconds.
        var health = await server.HealthAsync();
        for (int i = 0; i < 100 && health.GetProperty("slots_busy").GetInt32() > 0; i++)
        {
            await Task.Delay(50);
            health = await server.HealthAsync();
        }
        Assert.Equal(0, health.GetProperty("slots_busy").GetInt32());
        Assert.Equal(0, health.GetProperty("queued").GetInt32());
        long endRss = server.ResidentBytes();
        output.WriteLine($"resident memory after {WarmUp} requests {warmRss >> 20} MiB, at the end {endRss >> 20} MiB");
        Assert.True(endRss < warmRss * 1.5 + (32 << 20), $"memory grew from {warmRss >> 20} MiB to {endRss >> 20} MiB");
    }

    static async Task<Outcome> SendAsync(HttpClient http, int index)
    {
        var random = new Random(index);
        var kind = (Kind)random.Next(4);
        string prompt = GreedyReference.Prompts[random.Next(GreedyReference.Prompts.Length)];
        int maxTokens = random.Next(1, GreedyReference.MaxTokens + 1);
        object body = kind switch
        {
            Kind.Greedy => new { prompt, max_tokens = maxTokens, temperature = 0, return_token_ids = true },
            Kind.Sampled => new { prompt, max_tokens = maxTokens, temperature = 0.8, top_p = 0.9, seed = index },
            _ => new { prompt, max_tokens = kind == Kind.Cancelled ? 250 : maxTokens, temperature = 0, return_token_ids = true, stream = true, ignore_eos = kind == Kind.Cancelled },
        };
        if (kind is Kind.Greedy or Kind.Sampled)
        {
            var (status, json) = await Json.PostAsync(http, "/v1/completions", body);
            Assert.Equal(200, status);
            var choice = json.GetProperty("choices")[0];
            return new Outcome(index, kind, prompt, maxTokens, json.GetProperty("id").GetString(),
                choice.TryGetProperty("token_ids", out var ids) ? Json.Ints(ids) : null);
        }
        using var response = await http.SendAsync(Json.Streaming("/v1/completions", body), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        if (kind == Kind.Cancelled)
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
            return new Outcome(index, kind, prompt, maxTokens, null, null); // leaves after the first chunk
        }
        var (chunks, done) = await Json.ReadStreamAsync(response);
        Assert.True(done);
        var id = chunks.Select(c => (string)c["id"]!).Distinct().Single();
        int[] tokens = [.. chunks.SelectMany(c => c["choices"]!.AsArray()).SelectMany(c => c!["token_ids"]!.AsArray()).Select(t => (int)t!)];
        return new Outcome(index, kind, prompt, maxTokens, id, tokens);
    }
}
