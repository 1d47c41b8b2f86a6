using PldrGen.Runtime;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PldrGen.Runtime.Research;

namespace PldrGen.CommandLine;

/// <summary>
/// <c>pldr score</c>: lm-evaluation-harness loglikelihood requests, one JSON object {context, continuation} per line,
/// answered with the continuation's summed log-probability and whether greedy decoding gives exactly it.
/// </summary>
static class ScoreCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new ModelOptions();
        var file = new Option<string?>("--file") { Description = "JSON lines of {\"context\": …, \"continuation\": …} (default: standard input)", HelpName = "FILE" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object {logprob, is_greedy} per input line" };
        var command = new Command("score", "Loglikelihood of continuations (one causal forward over context + continuation, no caches)") { model.Model, file, json };
        command.SetAction(result =>
        {
            var (pldr, tokenizer, _) = ResearchOptions.Load(model, result);
            string? path = result.GetValue(file);
            string name = path ?? "stdin";
            TextReader input = path is null ? Console.In : new StringReader(ResearchOptions.ReadText(path));
            int number = 0;
            for (string? line; (line = input.ReadLine()) is not null;)
            {
                number++;
                if (line.Trim().Length == 0) continue;
                var (context, continuation) = Request(name, number, line);
                var (contextIds, continuationIds) = Scoring.Split(tokenizer, context, continuation);
                LoglikelihoodResult scored;
                try { scored = Loglikelihood.Compute(pldr, contextIds, continuationIds); }
                catch (PldrException e) { throw new PldrException($"{name}:{number}: {e.Message}"); }
                if (result.GetValue(json))
                    ResearchOptions.WriteJson(stdout, j => { j.WriteNumber("logprob", scored.LogProb); j.WriteBoolean("is_greedy", scored.IsGreedy); });
                else
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{scored.LogProb,12:F6}  {(scored.IsGreedy ? "greedy" : "      ")}  {JsonSerializer.Serialize(continuation, ResearchJson.Default.String)}"));
            }
            return 0;
        });
        return command;
    }

    static (string Context, string Continuation) Request(string name, int number, string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("context", out var context) && context.ValueKind == JsonValueKind.String
                && root.TryGetProperty("continuation", out var continuation) && continuation.ValueKind == JsonValueKind.String)
                return (context.GetString()!, continuation.GetString()!);
        }
        catch (JsonException) { }
        throw new PldrException($"{name}:{number}: expected a JSON object with string fields \"context\" and \"continuation\"");
    }
}
