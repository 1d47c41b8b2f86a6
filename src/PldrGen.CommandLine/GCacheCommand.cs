using System.CommandLine;
using PldrGen.Runtime;

namespace PldrGen.CommandLine;

/// <summary><c>pldr gcache</c>: prefill a prompt and save its G-cache (per layer A, A_LM, G_LM) for injection.</summary>
static class GCacheCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new ModelOptions();
        var output = new Option<string>("--out") { Description = "Where to write the G-cache (safetensors)", HelpName = "FILE", Required = true };
        var command = new Command("gcache", "Save the G-cache that a prompt's prefill produces");
        model.AddTo(command);
        command.Add(output);
        command.SetAction(result =>
        {
            string directory = model.ModelDirectory(result);
            var info = ModelResolver.Resolve(directory);
            var prompt = model.PromptTokens(result, ModelOptions.TokenizerOf(directory), info.Config);
            var pldr = info.Load(directory);
            pldr.Prefill(prompt);
            var cache = pldr.CaptureGCache();
            string path = result.GetValue(output)!;
            cache.Save(path, new Dictionary<string, string>
            {
                ["model"] = info.TypeName,
                ["prompt_tokens"] = string.Join(",", prompt),
            });
            stdout.WriteLine($"wrote {path}: G-cache {cache.ShapeText} of a {prompt.Length}-token prompt");
            return 0;
        });
        return command;
    }
}
