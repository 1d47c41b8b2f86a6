using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using PldrGen.Runtime;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;

namespace PldrGen.CommandLine;

/// <summary>
/// <c>pldr batch</c>: every line of a JSONL file is one request to the engine, which runs up to --slots of them at
/// once; one JSON line comes out per input, in input order, and the last stderr line is the aggregate throughput.
/// </summary>
static class BatchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new ModelOptions();
        var prompts = new Option<string>("--prompts")
        {
            Description = "JSONL, one request a line: prompt (text) or tokens (ids), and any of max_tokens, temperature, top_p, top_k, min_p, " +
                "repetition_penalty, presence_penalty, frequency_penalty, seed, stop, ignore_eos",
            HelpName = "FILE", Required = true,
        };
        var slots = new Option<int>("--slots") { Description = "Sequences generated at once", DefaultValueFactory = _ => 4, HelpName = "N" };
        var noWarmUp = RunOptions.NoWarmUpOption();
        var command = new Command("batch", "Generate for every request of a JSONL file, many at once");
        command.Add(model.Model);
        command.Add(prompts);
        command.Add(slots);
        command.Add(noWarmUp);
        command.SetAction(result =>
        {
            string file = result.GetValue(prompts)!;
            var requests = Read(file);
            string directory = model.ModelDirectory(result);
            var info = ModelResolver.Resolve(directory);
            var options = new EngineOptions { Slots = result.GetValue(slots) };
            options.Validate();
            using var engine = PldrEngine.Load(info, directory, options with { QueueCapacity = options.Slots });
            if (!result.GetValue(noWarmUp)) engine.WarmUp(); // outside the timed run, as generate's warm-up
            Run(engine, file, requests, stdout, stderr);
            return 0;
        });
        return command;
    }

    static List<(int Line, BatchRequest Request, GenerateOptions Options)> Read(string file)
    {
        if (!File.Exists(file)) throw new PldrException($"{file}: file not found");
        var requests = new List<(int, BatchRequest, GenerateOptions)>();
        int number = 0;
        foreach (string line in File.ReadLines(file))
        {
            number++;
            if (line.Trim().Length == 0) continue;
            try
            {
                var request = JsonSerializer.Deserialize(line, CliJson.Default.BatchRequest) ?? throw new PldrException("expected a JSON object");
                if ((request.Prompt is null) == (request.Tokens is null)) throw new PldrException("give prompt (text) or tokens (ids), not both or neither");
                var options = request.Options();
                options.Validate();
                requests.Add((number, request, options));
            }
            catch (Exception e) when (e is JsonException or PldrException)
            {
                throw new PldrException($"{file}:{number}: {OneLine(e.Message)}");
            }
        }
        return requests;
    }

    /// <summary>Submits in input order, at most twice the slots ahead of the first result not yet written.</summary>
    static void Run(PldrEngine engine, string file, List<(int Line, BatchRequest Request, GenerateOptions Options)> requests, TextWriter stdout, TextWriter stderr)
    {
        var clock = Stopwatch.StartNew();
        var running = new Queue<(int Index, int Line, Task<GenerateResult> Result)>();
        var finished = new List<GenerateResult>();
        int window = 2 * engine.Options.Slots;
        for (int i = 0; i < requests.Count; i++)
        {
            var (line, request, options) = requests[i];
            while (running.Count >= window) Write(running.Dequeue());
            Prompt prompt = request.Tokens is { } tokens ? tokens : request.Prompt!;
            try { running.Enqueue((i, line, engine.CompleteAsync(prompt, options))); }
            catch (PldrException e) { throw new PldrException($"{file}:{line}: {e.Message}"); }
        }
        while (running.Count > 0) Write(running.Dequeue());
        double wall = clock.Elapsed.TotalSeconds;
        double prefillSeconds = finished.Sum(r => r.Timings.Prefill.TotalSeconds);
        int prefillTokens = finished.Sum(r => r.Timings.PromptTokens), decodeTokens = finished.Sum(r => Math.Max(r.Tokens.Count - 1, 0));
        var stats = new BatchStats(finished.Count, engine.Options.Slots, prefillTokens, PerSecond(prefillTokens, prefillSeconds),
            decodeTokens, PerSecond(decodeTokens, wall - prefillSeconds), Math.Round(wall, 3));
        stderr.WriteLine(JsonSerializer.Serialize(stats, CliJson.Default.BatchStats));

        void Write((int Index, int Line, Task<GenerateResult> Result) item)
        {
            GenerateResult result;
            try { result = item.Result.GetAwaiter().GetResult(); }
            catch (PldrException e) { throw new PldrException($"{file}:{item.Line}: {e.Message}"); }
            finished.Add(result);
            var output = new BatchResult(item.Index, result.Text, result.TokenIds, FinishReason(result.StopReason), result.Seed);
            stdout.WriteLine(JsonSerializer.Serialize(output, CliJson.Default.BatchResult));
            stdout.Flush();
        }
    }

    static string FinishReason(StopReason reason) => reason switch
    {
        StopReason.EndToken => "end",
        StopReason.Length => "length",
        StopReason.StopString => "stop",
        StopReason.ContextFull => "context",
        _ => "cancelled",
    };

    static double PerSecond(int tokens, double seconds) => seconds > 0 ? Math.Round(tokens / seconds, 2) : 0;

    static string OneLine(string message) => string.Join(' ', message.Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>One line of <c>pldr batch --prompts</c>; absent fields take the command line's defaults.</summary>
sealed record BatchRequest(
    string? Prompt, int[]? Tokens, int? MaxTokens, float? Temperature, float? TopP, int? TopK, float? MinP,
    float? RepetitionPenalty, float? PresencePenalty, float? FrequencyPenalty, int? Seed, string[]? Stop, bool? IgnoreEos)
{
    public GenerateOptions Options() => new()
    {
        MaxTokens = MaxTokens ?? 64,
        Sampling = new SamplingOptions(Temperature ?? 1f, TopK ?? 0, TopP ?? 0.9f, Seed)
        {
            MinP = MinP ?? 0, RepetitionPenalty = RepetitionPenalty ?? 1, PresencePenalty = PresencePenalty ?? 0, FrequencyPenalty = FrequencyPenalty ?? 0,
        },
        Stop = Stop ?? [],
        IgnoreEos = IgnoreEos ?? false,
    };
}

/// <summary>One output line of <c>pldr batch</c>.</summary>
sealed record BatchResult(int Index, string Text, int[] Tokens, string FinishReason, int Seed);

/// <summary>The last stderr line of <c>pldr batch</c>: aggregate prefill and decode throughput.</summary>
sealed record BatchStats(int Requests, int Slots, int PrefillTokens, double PrefillTokensPerSecond, int DecodeTokens, double DecodeTokensPerSecond, double WallSeconds);
