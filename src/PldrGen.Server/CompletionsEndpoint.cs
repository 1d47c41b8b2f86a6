using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Text;

namespace PldrGen.Server;

/// <summary>
/// <c>POST /v1/completions</c>: OpenAI's legacy completions. One sequence per prompt and choice, run at once;
/// <c>echo</c> with <c>logprobs</c> scores prompt and completion in one causal forward without caches, as
/// lm-evaluation-harness needs (<c>max_tokens</c> 0 scores the prompt alone).
/// </summary>
static class CompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext http)
    {
        var served = http.RequestServices.GetRequiredService<ServedModel>();
        var request = await RequestReader.ReadAsync(http, ServerJson.Default.CompletionRequest);
        served.CheckModel(request.Model);
        var prompts = RequestReader.Prompts(request.Prompt, served);
        int n = RequestReader.Choices(request.N, prompts.Count, served);
        int maxTokens = RequestReader.MaxTokens(request.MaxTokens, 16, "max_tokens");
        if (request.Logprobs is < 0 or > GenerateOptions.MaxTopLogProbs)
            throw new ApiException(400, $"logprobs: must be in 0..{GenerateOptions.MaxTopLogProbs}, got {request.Logprobs}", "logprobs");
        if (request.Stream && request.Echo && request.Logprobs is not null)
            throw new ApiException(400, "echo with logprobs scores the whole text at once: use it without stream", "stream");
        var sampling = RequestReader.Sampling(request);
        var options = new GenerateOptions
        {
            MaxTokens = maxTokens,
            Sampling = sampling,
            Stop = RequestReader.Stops(request.Stop),
            IgnoreEos = request.IgnoreEos,
            LogProbs = request.Logprobs is not null,
            TopLogProbs = request.Logprobs ?? 0,
            G = RequestReader.G(request.Pldr, served),
        };
        var sequences = Enumerable.Range(0, prompts.Count * n)
            .Select(i => new SequenceRequest(prompts[i / n], options with { Sampling = ForChoice(sampling, i % n) })).ToList();
        var reply = new Reply(served, request, "cmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var run = SequenceSet.RunAsync(served, maxTokens == 0 ? [] : sequences, http.RequestAborted);
        if (request.Stream) await StreamAsync(http, reply, sequences, run);
        else await CompleteAsync(http, reply, sequences, run);
    }

    /// <summary>Choice j of a seeded request uses seed + j, so n choices differ and choice 0 repeats the seed alone.</summary>
    internal static SamplingOptions ForChoice(SamplingOptions sampling, int choice) => sampling.Seed is { } seed ? sampling with { Seed = unchecked(seed + choice) } : sampling;

    static async Task CompleteAsync(HttpContext http, Reply reply, List<SequenceRequest> sequences, IAsyncEnumerable<SequenceEvent> run)
    {
        var tokens = sequences.Select(_ => new List<GeneratedToken>()).ToArray();
        await foreach (var e in run) tokens[e.Index].Add(e.Token);
        var choices = new CompletionChoice[sequences.Count];
        for (int i = 0; i < choices.Length; i++) choices[i] = await reply.ChoiceAsync(i, sequences[i], tokens[i], http.RequestAborted);
        await http.Response.WriteAsJsonAsync(reply.Response(choices, Usage(sequences, tokens, reply.Choices)), ServerJson.Default.CompletionResponse, cancellationToken: http.RequestAborted);
    }

    static async Task StreamAsync(HttpContext http, Reply reply, List<SequenceRequest> sequences, IAsyncEnumerable<SequenceEvent> run)
    {
        var cancel = http.RequestAborted;
        await using var events = run.GetAsyncEnumerator(cancel);
        bool more = await events.MoveNextAsync(); // a refusal (queue full, bad option) still gets its status code
        await Sse.StartAsync(http.Response);
        var offsets = new int[sequences.Count];
        var counts = new int[sequences.Count];
        if (reply.Request.Echo)
            for (int i = 0; i < sequences.Count; i++)
            {
                string prompt = string.Concat(Pieces(reply.Served.Tokenizer, sequences[i].Prompt));
                offsets[i] = prompt.Length;
                await Sse.WriteAsync(http.Response, reply.Response([new CompletionChoice(i, prompt, null, null)], null), ServerJson.Default.CompletionResponse, cancel);
            }
        try
        {
            for (; more; more = await events.MoveNextAsync())
            {
                var (index, token) = events.Current;
                counts[index]++;
                var logprobs = token.LogProb is { } logprob ? new LogprobList(reply.Served.Tokenizer, offsets[index]).Add(token.Text, logprob, token.TopLogProbs ?? []).Result : null;
                offsets[index] += token.Text.Length;
                var choice = new CompletionChoice(index, token.Text, logprobs, FinishText(token.Finish)) { TokenIds = reply.Request.ReturnTokenIds ? [token.Id] : null };
                await Sse.WriteAsync(http.Response, reply.Response([choice], null), ServerJson.Default.CompletionResponse, cancel);
            }
        }
        catch (Exception e) when (!cancel.IsCancellationRequested)
        {
            await Sse.ErrorAsync(http.Response, e, cancel);
            return;
        }
        if (sequences[0].Options.MaxTokens == 0)
            for (int i = 0; i < sequences.Count; i++)
                await Sse.WriteAsync(http.Response, reply.Response([new CompletionChoice(i, "", null, "length")], null), ServerJson.Default.CompletionResponse, cancel);
        if (reply.Request.StreamOptions?.IncludeUsage == true)
        {
            int prompt = sequences.Where((_, i) => i % reply.Choices == 0).Sum(s => s.Prompt.Length), completion = counts.Sum();
            await Sse.WriteAsync(http.Response, reply.Response([], new Usage(prompt, completion, prompt + completion)), ServerJson.Default.CompletionResponse, cancel);
        }
        await Sse.DoneAsync(http.Response, cancel);
    }

    /// <summary>Prompt tokens once per prompt (not per choice), as OpenAI counts them.</summary>
    static Usage Usage(List<SequenceRequest> sequences, List<GeneratedToken>[] tokens, int choices)
    {
        int prompt = sequences.Where((_, i) => i % choices == 0).Sum(s => s.Prompt.Length), completion = tokens.Sum(t => t.Count);
        return new Usage(prompt, completion, prompt + completion);
    }

    /// <summary>OpenAI's finish_reason: <c>stop</c> (end token or stop string), <c>length</c> (max_tokens or the context), or none yet.</summary>
    internal static string? FinishText(GenerateFinish? finish) => finish?.Reason switch
    {
        StopReason.EndToken or StopReason.StopString => "stop",
        StopReason.Length or StopReason.ContextFull => "length",
        _ => null,
    };

    /// <summary>The text each prompt token adds, decoded as the model reads it (the first loses its dummy-prefix space).</summary>
    internal static List<string> Pieces(PldrTokenizer tokenizer, int[] ids)
    {
        var decoder = tokenizer.CreateStreamingDecoder();
        var pieces = ids.Select(decoder.Append).ToList();
        pieces[^1] += decoder.Flush();
        return pieces;
    }

    /// <summary>What every chunk and choice of one response shares.</summary>
    sealed record Reply(ServedModel Served, CompletionRequest Request, string Id, long Created)
    {
        public int Choices => Request.N ?? 1;

        public CompletionResponse Response(IReadOnlyList<CompletionChoice> choices, Usage? usage) =>
            new(Id, "text_completion", Created, Served.Name, choices, usage);

        public async Task<CompletionChoice> ChoiceAsync(int index, SequenceRequest sequence, List<GeneratedToken> tokens, CancellationToken cancel)
        {
            var tokenizer = Served.Tokenizer;
            string completion = string.Concat(tokens.Select(t => t.Text));
            var finish = sequence.Options.MaxTokens == 0 ? "length" : FinishText(tokens[^1].Finish);
            int[]? ids = Request.ReturnTokenIds ? [.. tokens.Select(t => t.Id)] : null;
            if (!Request.Echo)
            {
                CompletionLogprobs? generated = null;
                if (sequence.Options.LogProbs)
                {
                    var list = new LogprobList(tokenizer, 0);
                    foreach (var t in tokens) list.Add(t.Text, t.LogProb, t.TopLogProbs ?? []);
                    generated = list.Result;
                }
                return new CompletionChoice(index, completion, generated, finish) { TokenIds = ids };
            }
            var pieces = Pieces(tokenizer, sequence.Prompt);
            string text = string.Concat(pieces) + completion;
            if (!sequence.Options.LogProbs) return new CompletionChoice(index, text, null, finish) { TokenIds = ids };
            int[] all = [.. sequence.Prompt, .. tokens.Select(t => t.Id)];
            var scores = await Served.Engine.ScoreAsync(all, sequence.Options.TopLogProbs, sequence.Options.G, cancel);
            var echoed = new LogprobList(tokenizer, 0).Add(pieces[0], null, null);
            var texts = pieces.Skip(1).Concat(tokens.Select(t => t.Text)).ToList();
            for (int t = 0; t < scores.Length; t++) echoed.Add(texts[t], scores[t].LogProb, scores[t].Top);
            return new CompletionChoice(index, text, echoed.Result, finish) { TokenIds = ids };
        }
    }

    /// <summary>OpenAI's parallel logprob lists, with each token's character offset in the choice's text.</summary>
    sealed class LogprobList(PldrTokenizer tokenizer, int offset)
    {
        public CompletionLogprobs Result { get; } = new([], [], [], []);

        public LogprobList Add(string text, float? logprob, IReadOnlyList<TokenLogProb>? top)
        {
            Result.Tokens.Add(text);
            Result.TokenLogprobs.Add(logprob);
            Result.TextOffset.Add(offset);
            offset += text.Length;
            if (top is null) Result.TopLogprobs.Add(null);
            else
            {
                var alternatives = new Dictionary<string, float>(StringComparer.Ordinal);
                foreach (var (id, lp) in top) alternatives.TryAdd(tokenizer.TokenText(id), lp);
                Result.TopLogprobs.Add(alternatives);
            }
            return this;
        }
    }
}
