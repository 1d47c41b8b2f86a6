using PldrGen.Runtime;
using System.CommandLine;
using System.Globalization;
using PldrGen.Runtime.Research;

namespace PldrGen.CommandLine;

/// <summary><c>pldr perplexity</c>: exp(mean NLL) of a text, in windows of the model's context.</summary>
static class PerplexityCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new ModelOptions();
        var file = new Option<string>("--file") { Description = "The text to score (encoded whole)", HelpName = "TEXT", Required = true };
        var window = new Option<int?>("--window") { Description = "Tokens per window (default: the model's context)", HelpName = "N" };
        var stride = new Option<int?>("--stride") { Description = "Start a window every S tokens (default: back to back); each token is scored once", HelpName = "S" };
        var json = ResearchOptions.Json();
        var command = new Command("perplexity", "Perplexity of a text file: windows without caches, the first token of each unscored") { model.Model, file, window, stride, json };
        command.SetAction(result =>
        {
            var (pldr, tokenizer, _) = ResearchOptions.Load(model, result);
            var tokens = tokenizer.Encode(ResearchOptions.ReadText(result.GetValue(file)!));
            int size = result.GetValue(window) ?? pldr.Info.Config.MaxPositionEmbeddings;
            bool bar = !result.GetValue(json) && ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected && tokens.Length > 4 * size;
            var scored = Perplexity.Compute(pldr, tokens, size, result.GetValue(stride) ?? size, bar ? (done, total) => Progress(stderr, done, total) : null);
            if (bar) stderr.WriteLine();
            if (result.GetValue(json))
                ResearchOptions.WriteJson(stdout, j =>
                {
                    j.WriteNumber("tokens", scored.Tokens);
                    j.WriteNumber("scored", scored.Scored);
                    j.WriteNumber("mean_nll", scored.MeanNll);
                    j.WriteNumber("perplexity", scored.Perplexity);
                });
            else
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"tokens {scored.Tokens}, scored {scored.Scored}, mean NLL {scored.MeanNll:F6}, perplexity {scored.Perplexity:F4}"));
            return 0;
        });
        return command;
    }

    static void Progress(TextWriter stderr, int done, int total)
    {
        int filled = (int)(40L * done / total);
        stderr.Write($"\r[{new string('#', filled)}{new string(' ', 40 - filled)}] {done}/{total} tokens");
    }
}
