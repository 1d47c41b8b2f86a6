using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PldrGen.Server.Tests;

/// <summary>Bad requests get a status and OpenAI's JSON error body naming the field; clients that misbehave cost nothing.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class FaultTests(SharedServer shared)
{
    HttpClient Http => shared.Server.Http;

    static StringContent Raw(string body) => new(body, Encoding.UTF8, "application/json");

    static void AssertError(JsonElement body, string contains)
    {
        var error = body.GetProperty("error");
        Assert.Contains(contains, error.GetProperty("message").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.DoesNotContain("internal error", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("{\"prompt\": \"x\", ", "request body")]
    [InlineData("not json at all", "request body")]
    [InlineData("null", "expected a JSON object")]
    [InlineData("{\"prompt\": \"x\", \"max_tokens\": \"many\"}", "$.max_tokens")]
    [InlineData("{\"prompt\": \"x\", \"temperature\": [1]}", "$.temperature")]
    [InlineData("{\"prompt\": {\"text\": \"x\"}}", "prompt")]
    [InlineData("{\"prompt\": [1, \"x\"]}", "prompt")]
    [InlineData("{\"prompt\": [5000000]}", "not a token id")]
    [InlineData("{\"prompt\": \"x\", \"top_p\": 0}", "top_p")]
    [InlineData("{\"prompt\": \"x\", \"n\": 0}", "n:")]
    [InlineData("{\"prompt\": \"x\", \"n\": 1000}", "sequences per request")]
    [InlineData("{\"prompt\": \"x\", \"logprobs\": 50}", "logprobs")]
    [InlineData("{\"prompt\": \"x\", \"stop\": 7}", "stop")]
    [InlineData("{\"prompt\": \"x\", \"pldr\": {\"g_cache\": \"missing\"}}", "pldr.g_cache")]
    [InlineData("{\"prompt\": \"x\", \"pldr\": {\"g_policy\": \"sideways\"}}", "pldr.g_policy")]
    [InlineData("{\"prompt\": \"x\", \"stream\": true, \"echo\": true, \"logprobs\": 1}", "without stream")]
    public async Task Malformed_or_out_of_range_requests_are_400_with_the_field_named(string body, string contains)
    {
        var (status, error) = await Json.SendAsync(Http, "/v1/completions", Raw(body));
        Assert.Equal(400, status);
        AssertError(error, contains);
    }

    [Fact]
    public async Task Chat_with_bad_messages_is_400()
    {
        var (status, error) = await Json.SendAsync(Http, "/v1/chat/completions", Raw("{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}"));
        Assert.Equal(400, status);
        AssertError(error, "messages[0].role");
        (status, error) = await Json.SendAsync(Http, "/v1/chat/completions", Raw("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}"));
        Assert.Equal(400, status);
        AssertError(error, "only text parts");
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        // As curl does for a large body, the client asks first (Expect: 100-continue): the server refuses before the
        // upload, so the client is not left writing into a connection the server has closed after its 413.
        string huge = "{\"prompt\": \"" + new string('a', 2 << 20) + "\"}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = Raw(huge) };
        request.Headers.ExpectContinue = true;
        using var response = await Http.SendAsync(request);
        Assert.Equal(413, (int)response.StatusCode);
        AssertError(await response.Content.ReadFromJsonAsync<JsonElement>(), "larger than the server's limit");
    }

    [Fact]
    public async Task A_prompt_past_the_context_is_400_context_length_exceeded()
    {
        var (status, error) = await Json.PostAsync(Http, "/v1/completions", new { prompt = Enumerable.Repeat(5, 300).ToArray(), max_tokens = 1 });
        Assert.Equal(400, status);
        AssertError(error, "more than the model's context of 256 positions");
        Assert.Equal("context_length_exceeded", error.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_unknown_model_is_404()
    {
        var (status, error) = await Json.PostAsync(Http, "/v1/completions", new { model = "davinci", prompt = "x" });
        Assert.Equal(404, status);
        Assert.Equal("model_not_found", error.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_frees_its_slot_and_stops_its_sequence()
    {
        // 64 choices × 250 tokens on 4 slots: far more work than the moment it takes to notice the client left (16 × 250
        // demo tokens, about a quarter of a second with the faster kernels, could end first)
        double before = await GeneratedTokensAsync();
        using (var response = await Http.SendAsync(Json.Streaming("/v1/completions",
            new { prompt = "The import statement", max_tokens = 250, n = 64, ignore_eos = true, stream = true }), HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
        } // disposing the response closes the connection mid-stream
        await WaitForFreeSlotsAsync();
        Assert.True(await GeneratedTokensAsync() - before < 64 * 250, "the sequences ran to their end after the client left");
    }

    [Fact]
    public async Task A_slow_reader_gets_every_token_and_holds_no_slot_while_it_reads()
    {
        string prompt = GreedyReference.Prompts[1];
        var expected = GreedyReference.Text(prompt);
        using var response = await Http.SendAsync(Json.Streaming("/v1/completions",
            new { prompt, max_tokens = GreedyReference.MaxTokens, temperature = 0, stream = true }), HttpCompletionOption.ResponseHeadersRead);
        // 33 events at 250 ms each: the reader takes over 8 s, far longer than generating 32 tokens and freeing the slot
        var reading = Json.ReadStreamAsync(response, delayPerEvent: TimeSpan.FromMilliseconds(250));
        await WaitForFreeSlotsAsync();
        Assert.False(reading.IsCompleted);
        var (chunks, done) = await reading;
        Assert.True(done);
        Assert.Equal(expected, string.Concat(chunks.Select(c => (string)c["choices"]![0]!["text"]!)));
    }

    async Task<double> GeneratedTokensAsync()
    {
        string metrics = await Http.GetStringAsync("/metrics");
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("pldr_generated_tokens_total", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    async Task WaitForFreeSlotsAsync()
    {
        for (int i = 0; i < 100; i++) // 5 s at most, for a loaded machine
        {
            if ((await shared.Server.HealthAsync()).GetProperty("slots_busy").GetInt32() == 0) return;
            await Task.Delay(50);
        }
        Assert.Fail("a slot stayed busy after its client left");
    }
}

/// <summary>Servers of their own: a full queue, an API key, a refused address, SIGTERM under load.</summary>
public sealed class ServerLimitTests
{
    [Fact]
    public async Task A_full_queue_answers_503_with_retry_after_and_the_rest_complete()
    {
        using var server = new ServerProcess("--slots", "1", "--queue", "0");
        var body = new { prompt = "The import statement", max_tokens = 250, ignore_eos = true };
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => server.Http.PostAsync("/v1/completions",
            new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"))));
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(refused);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, r.StatusCode.ToString()));
        foreach (var r in refused)
        {
            Assert.Equal("1", r.Headers.RetryAfter?.ToString());
            var error = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal("queue_full", error.GetProperty("code").GetString());
        }
        Assert.Equal(0, (await server.HealthAsync()).GetProperty("slots_busy").GetInt32());
    }

    [Fact]
    public async Task Group_names_are_bounded_and_the_ones_kept_stay_usable()
    {
        using var server = new ServerProcess();
        object Body(int group) => new { prompt = "The import statement", max_tokens = 1, pldr = new { g_policy = "first_of_group", group = $"g{group}" } };
        for (int i = 0; i < 256; i++) Assert.Equal(200, (await Json.PostAsync(server.Http, "/v1/completions", Body(i))).Status);
        var (status, error) = await Json.PostAsync(server.Http, "/v1/completions", Body(256));
        Assert.Equal(400, status);
        Assert.Equal("pldr.group", error.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(200, (await Json.PostAsync(server.Http, "/v1/completions", Body(7))).Status);
    }

    [Fact]
    public async Task With_an_api_key_every_request_needs_the_bearer_token()
    {
        using var server = new ServerProcess("--api-key", "s3cret");
        var (status, error) = await Json.PostAsync(server.Http, "/v1/completions", new { prompt = "x", max_tokens = 1 });
        Assert.Equal(401, status);
        Assert.Equal("invalid_api_key", error.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(200, (int)(await server.Http.GetAsync("/health")).StatusCode);

        server.Http.DefaultRequestHeaders.Authorization = new("Bearer", "wrong");
        Assert.Equal(401, (int)(await server.Http.GetAsync("/v1/models")).StatusCode);
        server.Http.DefaultRequestHeaders.Authorization = new("Bearer", "s3cret");
        (status, _) = await Json.PostAsync(server.Http, "/v1/completions", new { prompt = "x", max_tokens = 1 });
        Assert.Equal(200, status);

        var sdk = new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential("wrong"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(server.Url + "/v1") });
        var e = await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() => sdk.GetChatClient(SharedServer.Model).CompleteChatAsync([new OpenAI.Chat.UserChatMessage("hi")]));
        Assert.Equal(401, e.Status);
    }

    [Fact]
    public void Listening_beyond_loopback_without_an_api_key_is_refused_in_one_line()
    {
        var run = PldrProgram.Shipped.Run("serve", "--host", "0.0.0.0", "--port", "0");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("refusing to listen beyond this machine without --api-key", run.Stderr);
        Assert.Single(run.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Sigterm_under_load_lets_every_stream_finish_then_exits_0()
    {
        var server = new ServerProcess("--slots", "8");
        try
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => server.Http.SendAsync(Json.Streaming("/v1/completions",
                new { prompt = GreedyReference.Prompts[i], max_tokens = 250, ignore_eos = true, temperature = 0, stream = true }), HttpCompletionOption.ResponseHeadersRead)));
            // every stream has begun (its headers come with its first token): now stop the server
            int exit = await Task.Run(() => server.Terminate(TimeSpan.FromSeconds(60)));
            foreach (var response in responses)
            {
                var (chunks, done) = await Json.ReadStreamAsync(response);
                Assert.True(done, "a stream was cut by SIGTERM");
                Assert.Equal(250, chunks.Count);
                response.Dispose();
            }
            Assert.Equal(0, exit);
        }
        finally { server.Dispose(); }
    }
}
