using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Text;

namespace PldrGen.Server;

/// <summary><c>POST /v1/chat/completions</c>: the conversation as one prompt (see <see cref="ChatPrompt"/>), n choices, streaming.</summary>
static class ChatEndpoint
{
    public static async Task HandleAsync(HttpContext http)
    {
        var served = http.RequestServices.GetRequiredService<ServedModel>();
        var request = await RequestReader.ReadAsync(http, ServerJson.Default.ChatRequest);
        served.CheckModel(request.Model);
        int[] prompt = RequestReader.Text(ChatPrompt.Format(request.Messages), served, "messages");
        RequestReader.CheckLength(prompt, served, "messages");
        int n = RequestReader.Choices(request.N, 1, served);
        int maxTokens = RequestReader.MaxTokens(request.MaxCompletionTokens ?? request.MaxTokens, served.ContextSize, "max_completion_tokens");
        if (maxTokens == 0) throw new ApiException(400, "max_completion_tokens: must be ≥ 1", "max_completion_tokens");
        if (request.TopLogprobs is < 0 or > GenerateOptions.MaxTopLogProbs)
            throw new ApiException(400, $"top_logprobs: must be in 0..{GenerateOptions.MaxTopLogProbs}, got {request.TopLogprobs}", "top_logprobs");
        if (request.TopLogprobs is not null && !request.Logprobs) throw new ApiException(400, "top_logprobs: needs logprobs true", "top_logprobs");
        var sampling = RequestReader.Sampling(request);
        var options = new GenerateOptions
        {
            MaxTokens = maxTokens,
            Sampling = sampling,
            Stop = [.. RequestReader.Stops(request.Stop), .. ChatPrompt.Stops],
            IgnoreEos = request.IgnoreEos,
            LogProbs = request.Logprobs,
            TopLogProbs = request.Logprobs ? request.TopLogprobs ?? 0 : 0,
            G = RequestReader.G(request.Pldr, served),
        };
        var sequences = Enumerable.Range(0, n).Select(i => new SequenceRequest(prompt, options with { Sampling = CompletionsEndpoint.ForChoice(sampling, i) })).ToList();
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var run = SequenceSet.RunAsync(served, sequences, http.RequestAborted);
        var tokenizer = served.Tokenizer;
        var cancel = http.RequestAborted;

        if (!request.Stream)
        {
            var tokens = sequences.Select(_ => new List<GeneratedToken>()).ToArray();
            await foreach (var e in run) tokens[e.Index].Add(e.Token);
            var choices = tokens.Select((t, i) => new ChatChoice(i, new ChatReply("assistant", Reply(t)),
                request.Logprobs ? new ChatLogprobs([.. t.Select(token => Logprob(tokenizer, token))]) : null, CompletionsEndpoint.FinishText(t[^1].Finish))).ToList();
            int completion = tokens.Sum(t => t.Count);
            await http.Response.WriteAsJsonAsync(new ChatResponse(id, "chat.completion", created, served.Name, choices,
                new Usage(prompt.Length, completion, prompt.Length + completion)), ServerJson.Default.ChatResponse, cancellationToken: cancel);
            return;
        }

        await using var events = run.GetAsyncEnumerator(cancel);
        bool more = await events.MoveNextAsync(); // a refusal still gets its status code
        await Sse.StartAsync(http.Response);
        ChatChunk Chunk(ChatChunkChoice[] choices, Usage? usage = null) => new(id, "chat.completion.chunk", created, served.Name, choices, usage);
        for (int i = 0; i < n; i++)
            await Sse.WriteAsync(http.Response, Chunk([new ChatChunkChoice(i, new ChatDelta { Role = "assistant", Content = "" }, null, null)]), ServerJson.Default.ChatChunk, cancel);
        var leading = new bool[n]; // a reply's leading space (after "Assistant:") is dropped, as in Reply
        int generated = 0;
        try
        {
            for (; more; more = await events.MoveNextAsync())
            {
                var (index, token) = events.Current;
                generated++;
                string text = leading[index] ? token.Text : token.Text.TrimStart(' ');
                leading[index] |= text.Length > 0;
                var logprobs = request.Logprobs ? new ChatLogprobs([Logprob(tokenizer, token)]) : null;
                await Sse.WriteAsync(http.Response, Chunk([new ChatChunkChoice(index, new ChatDelta { Content = text }, logprobs, CompletionsEndpoint.FinishText(token.Finish))]),
                    ServerJson.Default.ChatChunk, cancel);
            }
        }
        catch (Exception e) when (!cancel.IsCancellationRequested)
        {
            await Sse.ErrorAsync(http.Response, e, cancel);
            return;
        }
        if (request.StreamOptions?.IncludeUsage == true)
            await Sse.WriteAsync(http.Response, Chunk([], new Usage(prompt.Length, generated, prompt.Length + generated)), ServerJson.Default.ChatChunk, cancel);
        await Sse.DoneAsync(http.Response, cancel);
    }

    /// <summary>The reply's text: the model continues "Assistant:", so its first space is the separator, not content.</summary>
    static string Reply(List<GeneratedToken> tokens) => string.Concat(tokens.Select(t => t.Text)).TrimStart(' ');

    static ChatTokenLogprob Logprob(PldrTokenizer tokenizer, GeneratedToken token) => new(token.Text, token.LogProb!.Value, Bytes(token.Text),
        [.. (token.TopLogProbs ?? []).Select(t => Alternative(tokenizer.TokenText(t.Id), t.LogProb))]);

    static ChatTopLogprob Alternative(string text, float logprob) => new(text, logprob, Bytes(text));

    static int[] Bytes(string text) => Array.ConvertAll(System.Text.Encoding.UTF8.GetBytes(text), b => (int)b);
}
