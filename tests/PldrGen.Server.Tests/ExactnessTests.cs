using System.Text.Json;

namespace PldrGen.Server.Tests;

/// <summary>Greedy through the server is, token for token, what pldr generate --greedy gives; echo logprobs are the prefill's.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class ExactnessTests(SharedServer shared)
{
    async Task<int[]> GreedyAsync(string prompt)
    {
        var (status, body) = await Json.PostAsync(shared.Server.Http, "/v1/completions",
            new { prompt, max_tokens = GreedyReference.MaxTokens, temperature = 0, return_token_ids = true });
        Assert.Equal(200, status);
        return Json.Ints(body.GetProperty("choices")[0].GetProperty("token_ids"));
    }

    [Fact]
    public async Task One_client_gets_the_reference_tokens_for_every_prompt()
    {
        foreach (string prompt in GreedyReference.Prompts)
            Assert.Equal(GreedyReference.Tokens(prompt), await GreedyAsync(prompt));
    }

    [Fact]
    public async Task Sixteen_concurrent_clients_each_get_the_reference_tokens()
    {
        var expected = GreedyReference.Prompts.Select(p => GreedyReference.Tokens(p)).ToArray(); // references first, outside the timing
        var answers = await Task.WhenAll(GreedyReference.Prompts.Select(GreedyAsync));
        for (int i = 0; i < answers.Length; i++) Assert.Equal(expected[i], answers[i]);
    }

    [Fact]
    public async Task Token_prompts_many_prompts_and_n_choices_come_back_in_order()
    {
        var ids = GreedyReference.Prompts.Take(3).Select(p => GreedyReference.Tokenizer.EncodePrompt(p)).ToArray();
        var (status, body) = await Json.PostAsync(shared.Server.Http, "/v1/completions",
            new { prompt = ids, max_tokens = 8, temperature = 0, n = 2, return_token_ids = true });
        Assert.Equal(200, status);
        var choices = body.GetProperty("choices");
        Assert.Equal(6, choices.GetArrayLength());
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(i, choices[i].GetProperty("index").GetInt32());
            Assert.Equal(GreedyReference.Tokens(GreedyReference.Prompts[i / 2], 8), Json.Ints(choices[i].GetProperty("token_ids")));
        }
        Assert.Equal(ids.Sum(p => p.Length), body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Echo_logprobs_are_the_log_softmax_of_one_forward_over_prompt_and_completion()
    {
        string prompt = GreedyReference.Prompts[6];
        int[] ids = [.. GreedyReference.Tokenizer.EncodePrompt(prompt), .. GreedyReference.Tokens(prompt, 10)];
        var expected = GreedyReference.PromptLogprobs(ids);
        // lm-evaluation-harness's request: the whole text as the prompt, nothing generated, echo + logprobs
        var (status, body) = await Json.PostAsync(shared.Server.Http, "/v1/completions", new { prompt = ids, max_tokens = 0, echo = true, logprobs = 1 });
        Assert.Equal(200, status);
        var logprobs = body.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("token_logprobs");
        Assert.Equal(ids.Length, logprobs.GetArrayLength());
        Assert.Equal(JsonValueKind.Null, logprobs[0].ValueKind);
        for (int t = 1; t < ids.Length; t++) Assert.Equal(expected[t - 1], logprobs[t].GetDouble(), 1e-4);

        // echo with generation scores prompt + completion the same way
        var (_, generated) = await Json.PostAsync(shared.Server.Http, "/v1/completions",
            new { prompt, max_tokens = 10, temperature = 0, echo = true, logprobs = 0 });
        var choice = generated.GetProperty("choices")[0];
        Assert.Equal(prompt + GreedyReference.Text(prompt, 10), choice.GetProperty("text").GetString());
        var both = choice.GetProperty("logprobs").GetProperty("token_logprobs");
        for (int t = 1; t < ids.Length; t++) Assert.Equal(expected[t - 1], both[t].GetDouble(), 1e-4);
    }

    [Fact]
    public async Task Streamed_greedy_text_concatenates_to_the_reference_and_ends_with_done()
    {
        string prompt = GreedyReference.Prompts[2];
        using var response = await shared.Server.Http.SendAsync(Json.Streaming("/v1/completions",
            new { prompt, max_tokens = 20, temperature = 0, stream = true, stream_options = new { include_usage = true } }), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var (chunks, done) = await Json.ReadStreamAsync(response);
        Assert.True(done);
        var text = string.Concat(chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => (string)c["choices"]![0]!["text"]!));
        Assert.Equal(GreedyReference.Text(prompt, 20), text);
        Assert.Equal("text_completion", (string)chunks[0]["object"]!);
        Assert.Equal(GreedyReference.Tokens(prompt, 20).Length, (int)chunks[^1]["usage"]!["completion_tokens"]!);
    }

    /// <summary>A prompt whose greedy answer the G of <see cref="SharedServer.GCachePrompt"/> changes (many prompts' do not).</summary>
    const string TransferredPrompt = "Comparisons";

    /// <summary>What <c>pldr generate --greedy --g-cache</c> gives for <see cref="TransferredPrompt"/> under the shared G-cache file.</summary>
    int[] TransferredReference()
    {
        var ids = GreedyReference.Tokenizer.EncodePrompt(TransferredPrompt);
        string dump = Path.Combine(Path.GetTempPath(), $"pldr-server-g-{Guid.NewGuid():N}.safetensors");
        var run = PldrProgram.Shipped.Run("generate", "--greedy", "--tokens", string.Join(",", ids), "--max-new-tokens", "16", "--g-cache", shared.GCacheFile, "--dump", dump);
        Assert.Equal(0, run.ExitCode);
        int[] expected;
        using (var file = PldrGen.Runtime.Checkpoints.SafeTensorsFile.Open(dump)) expected = file.ReadInt32("generated.tokens");
        File.Delete(dump);
        Assert.NotEqual(GreedyReference.Tokens(TransferredPrompt, 16), expected); // the G-cache changes the answer, so the tests can tell
        return expected;
    }

    async Task<int[]> GreedyUnderAsync(string prompt, object pldr)
    {
        var (status, body) = await Json.PostAsync(shared.Server.Http, "/v1/completions",
            new { prompt, max_tokens = 16, temperature = 0, return_token_ids = true, pldr });
        Assert.Equal(200, status);
        return Json.Ints(body.GetProperty("choices")[0].GetProperty("token_ids"));
    }

    [Fact]
    public async Task A_named_g_cache_gives_the_tokens_of_pldr_generate_with_that_g_cache()
    {
        Assert.Equal(TransferredReference(), await GreedyUnderAsync(TransferredPrompt, new { g_cache = "import" }));
    }

    [Fact]
    public async Task The_first_prompt_of_a_group_gives_its_g_to_the_next_ones()
    {
        var expected = TransferredReference();
        string group = "group-" + Guid.NewGuid().ToString("N");
        Assert.Equal(GreedyReference.Tokens(SharedServer.GCachePrompt, 16), await GreedyUnderAsync(SharedServer.GCachePrompt, new { g_policy = "first_of_group", group }));
        Assert.Equal(expected, await GreedyUnderAsync(TransferredPrompt, new { g_policy = "first_of_group", group }));
    }

    [Fact]
    public async Task The_g_cache_endpoint_returns_the_safetensors_pldr_gcache_writes()
    {
        using var response = await shared.Server.Http.PostAsync("/v1/pldr/gcache",
            new StringContent(JsonSerializer.Serialize(new { prompt = SharedServer.GCachePrompt }), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)response.StatusCode);
        string file = Path.Combine(Path.GetTempPath(), $"pldr-server-gcache-{Guid.NewGuid():N}.safetensors");
        await File.WriteAllBytesAsync(file, await response.Content.ReadAsByteArrayAsync());
        try
        {
            var served = PldrGen.Runtime.Checkpoints.GCache.Load(file);
            var saved = PldrGen.Runtime.Checkpoints.GCache.Load(shared.GCacheFile);
            Assert.Equal(saved.G, served.G);
            Assert.Equal(saved.A, served.A);
        }
        finally { File.Delete(file); }
    }
}
