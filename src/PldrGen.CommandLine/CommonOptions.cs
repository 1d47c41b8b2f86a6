using System.CommandLine;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Text;

namespace PldrGen.CommandLine;

/// <summary>The options that name a model and a prompt, shared by generate and gcache.</summary>
sealed class ModelOptions
{
    public Option<string?> Model { get; } = new("--model")
    {
        Description = "Hugging Face model folder (config.json, model.safetensors, tokenizer.model); default: the embedded demo model",
        HelpName = "DIR",
    };
    public Option<string?> Prompt { get; } = new("--prompt") { Description = "Prompt text (tokenized without BOS/EOS; empty = the single token [END])", HelpName = "TEXT" };
    public Option<string?> Tokens { get; } = new("--tokens") { Description = "Prompt as token ids, e.g. 5,17,42", HelpName = "IDS" };

    public void AddTo(Command command)
    {
        command.Add(Model);
        command.Add(Prompt);
        command.Add(Tokens);
    }

    /// <summary>The model folder given, or the demo model shipped beside the program.</summary>
    public string ModelDirectory(ParseResult result) =>
        result.GetValue(Model) ?? DemoModel.Directory ?? throw new PldrException(
            $"no --model given and the demo model is not beside this program ({DemoModel.ExpectedDirectory}); pass --model DIR");

    /// <summary>The prompt's token ids from --tokens or --prompt (tokenized with the model's tokenizer).</summary>
    public int[] PromptTokens(ParseResult result, PldrTokenizer? tokenizer)
    {
        string? ids = result.GetValue(Tokens), text = result.GetValue(Prompt);
        if (ids is not null && text is not null) throw new PldrException("give --prompt or --tokens, not both");
        if (ids is not null) return ParseIds(ids, "--tokens") is { Length: > 0 } parsed ? parsed
            : throw new PldrException("--tokens: give at least one token id");
        if (tokenizer is null) throw new PldrException("--prompt needs the model's tokenizer.model; give --tokens instead");
        return tokenizer.EncodePrompt(text ?? "");
    }

    public static int[] ParseIds(string ids, string option)
    {
        if (ids.Trim().Length == 0) return [];
        var parts = ids.Split(',', StringSplitOptions.TrimEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out result[i]))
                throw new PldrException($"{option}: '{parts[i]}' is not a token id (expected comma-separated non-negative integers)");
        return result;
    }

    /// <summary>The tokenizer.model beside the checkpoint, or null when there is none.</summary>
    public static PldrTokenizer? TokenizerOf(string modelDirectory)
    {
        string path = Path.Combine(modelDirectory, "tokenizer.model");
        return File.Exists(path) ? PldrTokenizer.Load(path) : null;
    }
}

/// <summary>The demo model (models/pldr-tiny-pydoc) copied beside the pldr program.</summary>
static class DemoModel
{
    public static string ExpectedDirectory => Path.Combine(AppContext.BaseDirectory, "models", "pldr-tiny-pydoc");
    public static string? Directory => System.IO.Directory.Exists(ExpectedDirectory) ? ExpectedDirectory : null;
}

/// <summary>Finds the compiled spec for a checkpoint folder by comparing config.json with every compiled shape.</summary>
static class ModelResolver
{
    public static PldrModelInfo Resolve(string directory)
    {
        if (!Directory.Exists(directory)) throw new PldrException($"{directory}: model folder not found");
        string configPath = Path.Combine(directory, "config.json");
        var config = PldrConfig.Load(configPath);
        var compiled = PldrModelCatalog.All;
        return compiled.FirstOrDefault(m => m.Config.FirstDifference(config) is null)
            ?? throw new PldrException(
                $"{configPath}: no compiled spec has this shape ({compiled.Count} compiled: {string.Join(", ", compiled.Select(m => m.Name))}). " +
                $"Run 'pldr spec --from-config {configPath} > my-model.pldr.yaml', add it to a project that references PldrGen, and run that project's PldrCli.");
    }
}
