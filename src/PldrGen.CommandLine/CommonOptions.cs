using System.CommandLine;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Hub;
using PldrGen.Runtime.Text;

namespace PldrGen.CommandLine;

/// <summary>The options that name a model and a prompt, shared by generate, chat and gcache.</summary>
sealed class ModelOptions
{
    public Option<string?> Model { get; } = new("--model", "-m")
    {
        Description = "A model folder (config.json, model.safetensors, tokenizer.model) or a Hugging Face name OWNER/NAME[@REVISION] pulled with 'pldr pull'; default: the demo model in models/ beside this program",
        HelpName = "DIR|NAME",
    };
    public Option<string?> Prompt { get; } = new("--prompt", "-p") { Description = "Prompt text, '-' for standard input (tokenized without BOS/EOS; empty = the single token [END]); standard input is read when it is not a terminal and no prompt is given", HelpName = "TEXT" };
    public Option<string?> PromptFile { get; } = new("--prompt-file") { Description = "Read the prompt text from this file ('-' for standard input)", HelpName = "FILE" };
    public Option<string?> Tokens { get; } = new("--tokens") { Description = "Prompt as token ids, e.g. 5,17,42", HelpName = "IDS" };

    public void AddTo(Command command, bool withPrompt = true)
    {
        command.Add(Model);
        if (!withPrompt) return;
        command.Add(Prompt);
        command.Add(PromptFile);
        command.Add(Tokens);
    }

    /// <summary>The model folder given (a Hub name resolves through the Hub cache), or the demo model beside the program.</summary>
    public string ModelDirectory(ParseResult result) => result.GetValue(Model) is { } model ? ModelFolder.Resolve(model)
        : DemoModel.Directory ?? throw new PldrException(
            $"no --model given and the demo model is not beside this program ({DemoModel.ExpectedDirectory}); pass --model DIR");

    /// <summary>
    /// The prompt's token ids from --tokens, --prompt, --prompt-file or standard input, each id checked against the
    /// vocabulary and the context, so that nothing is printed before the input is known to be good.
    /// </summary>
    public int[] PromptTokens(ParseResult result, PldrTokenizer? tokenizer, PldrConfig config)
    {
        string? ids = result.GetValue(Tokens), text = result.GetValue(Prompt), file = result.GetValue(PromptFile);
        if ((ids is not null ? 1 : 0) + (text is not null ? 1 : 0) + (file is not null ? 1 : 0) > 1)
            throw new PldrException("give one of --prompt, --prompt-file and --tokens");
        int[] prompt;
        if (ids is not null)
            prompt = ParseIds(ids, "--tokens") is { Length: > 0 } parsed ? parsed : throw new PldrException("--tokens: give at least one token id");
        else
        {
            text = text == "-" || file == "-" || (text is null && file is null && Console.IsInputRedirected) ? Console.In.ReadToEnd()
                : file is not null ? ReadPromptFile(file) : text;
            if (tokenizer is null) throw new PldrException("a text prompt needs the model's tokenizer.model; give --tokens instead");
            prompt = tokenizer.EncodePrompt(text ?? "");
        }
        foreach (int id in prompt)
            if (id >= config.VocabSize) throw new PldrException($"--tokens: token id {id} is outside the vocabulary (0..{config.VocabSize - 1})");
        if (prompt.Length > config.MaxPositionEmbeddings)
            throw new PldrException($"the prompt has {prompt.Length} tokens, more than the model's context of {config.MaxPositionEmbeddings} positions");
        return prompt;
    }

    static string ReadPromptFile(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new PldrException($"--prompt-file: {path}: file not found");

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

/// <summary>What --model names: a folder on disk, else a Hugging Face name looked up in the Hub cache (never downloaded).</summary>
static class ModelFolder
{
    public static string Resolve(string model) =>
        Directory.Exists(model) || HubModelId.TryParse(model) is not { } id ? model
        : new HubCache(HubSettings.FromEnvironment().CacheDirectory).Resolve(id);
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
