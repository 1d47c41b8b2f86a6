using PldrGen.Runtime;
using System.CommandLine;
using System.Text.Json;
using PldrGen.Runtime.Text;

namespace PldrGen.CommandLine;

/// <summary>What the research commands share: the model folder, its tokenizer, prompt files, JSON output.</summary>
static class ResearchOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object" };

    public static Option<string> Prompts() => new("--prompts") { Description = "A text file with one prompt per line (empty lines skipped)", HelpName = "FILE", Required = true };

    /// <summary>The model of the folder given (or the demo model), resolved to its compiled spec, with its tokenizer.</summary>
    public static (IPldrModel Model, PldrTokenizer Tokenizer, string Directory) Load(ModelOptions options, ParseResult result)
    {
        string directory = options.ModelDirectory(result);
        var model = ModelResolver.Resolve(directory).Load(directory);
        var tokenizer = ModelOptions.TokenizerOf(directory) ?? throw new PldrException($"{directory}: tokenizer.model is missing; these commands read text");
        return (model, tokenizer, directory);
    }

    public static string ReadText(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new PldrException($"{path}: file not found");

    /// <summary>Each non-empty line of <paramref name="path"/> as prompt token ids.</summary>
    public static int[][] ReadPrompts(string path, PldrTokenizer tokenizer)
    {
        var prompts = ReadText(path).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).Select(tokenizer.EncodePrompt).ToArray();
        return prompts.Length > 0 ? prompts : throw new PldrException($"{path}: holds no prompt (one per line)");
    }

    /// <summary>Writes one JSON object as one line.</summary>
    public static void WriteJson(TextWriter stdout, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>A number, or null where there is none (NaN: an output a custom-G model does not have).</summary>
    public static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value); else json.WriteNull(name);
    }
}
