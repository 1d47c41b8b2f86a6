using System.CommandLine;
using PldrGen.Runtime;
using PldrGen.Runtime.Text;

namespace PldrGen.CommandLine;

/// <summary><c>pldr tokenize</c> and <c>pldr detokenize</c>: the paper's SentencePiece semantics, no BOS/EOS.</summary>
static class TokenizeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var (model, tokenizer) = TokenizerOptions();
        var text = new Argument<string>("TEXT") { Description = "Text to tokenize" };
        var pieces = new Option<bool>("--pieces") { Description = "Print the pieces as a JSON array on a second line" };
        var command = new Command("tokenize", "Print the token ids of TEXT as a JSON array") { model, tokenizer, text, pieces };
        command.SetAction(result =>
        {
            var t = Load(result, model, tokenizer);
            string input = result.GetValue(text)!;
            stdout.WriteLine("[" + string.Join(",", t.Encode(input)) + "]");
            if (result.GetValue(pieces))
                stdout.WriteLine(System.Text.Json.JsonSerializer.Serialize(t.Pieces(input), CliJson.Default.IReadOnlyListString));
            return 0;
        });
        return command;
    }

    public static Command CreateDetokenize(TextWriter stdout)
    {
        var (model, tokenizer) = TokenizerOptions();
        var ids = new Argument<string>("IDS") { Description = "Token ids, comma-separated (a JSON array works too)" };
        var command = new Command("detokenize", "Print the text of token ids") { model, tokenizer, ids };
        command.SetAction(result =>
        {
            var t = Load(result, model, tokenizer);
            stdout.WriteLine(t.Decode(ModelOptions.ParseIds(result.GetValue(ids)!.Trim().TrimStart('[').TrimEnd(']'), "IDS")));
            return 0;
        });
        return command;
    }

    static (Option<string?> Model, Option<string?> Tokenizer) TokenizerOptions() => (
        new Option<string?>("--model") { Description = "Model folder holding tokenizer.model (default: the demo model)", HelpName = "DIR" },
        new Option<string?>("--tokenizer") { Description = "A SentencePiece .model file", HelpName = "FILE" });

    static PldrTokenizer Load(ParseResult result, Option<string?> model, Option<string?> tokenizer)
    {
        if (result.GetValue(tokenizer) is { } file) return PldrTokenizer.Load(file);
        string directory = result.GetValue(model) ?? DemoModel.Directory
            ?? throw new PldrException("give --model DIR or --tokenizer FILE");
        return ModelOptions.TokenizerOf(directory) ?? throw new PldrException($"{directory}: tokenizer.model not found");
    }
}
