using System.CommandLine;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Hub;

namespace PldrGen.CommandLine;

/// <summary><c>pldr spec --from-config FILE</c>: a spec for any Hugging Face pldrllm config.json.</summary>
static class SpecCommand
{
    public static Command Create(TextWriter stdout)
    {
        var fromConfig = new Option<string>("--from-config")
        {
            Description = "A Hugging Face pldrllm config.json, the model folder that holds it, or a model name OWNER/NAME pulled with 'pldr pull'",
            HelpName = "FILE|DIR|NAME", Required = true,
        };
        var className = new Option<string?>("--class-name") { Description = "C# type name (default: from the folder name)", HelpName = "NAME" };
        var ns = new Option<string>("--namespace") { Description = "C# namespace", HelpName = "NS", DefaultValueFactory = _ => "PldrGen.Models" };
        var command = new Command("spec", "Print a *.pldr.yaml spec for a checkpoint's config.json") { fromConfig, className, ns };
        command.SetAction(result =>
        {
            string given = result.GetValue(fromConfig)!;
            var hubName = File.Exists(given) || Directory.Exists(given) ? null : HubModelId.TryParse(given);
            string path = hubName is not null || Directory.Exists(given) ? Path.Combine(ModelFolder.Resolve(given), "config.json") : given;
            var config = PldrConfig.Load(path);
            // A Hub snapshot folder is named by its commit: the class is named after the repository instead.
            string folder = hubName?.Name ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? "Model";
            stdout.Write(SpecWriter.FromConfig(config, result.GetValue(className) ?? SpecWriter.ClassNameFor(folder), result.GetValue(ns)!, hubName?.ToString() ?? path));
            return 0;
        });
        return command;
    }
}
