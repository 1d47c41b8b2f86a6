using System.CommandLine;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.CommandLine;

/// <summary><c>pldr spec --from-config FILE</c>: a spec for any Hugging Face pldrllm config.json.</summary>
static class SpecCommand
{
    public static Command Create(TextWriter stdout)
    {
        var fromConfig = new Option<string>("--from-config") { Description = "A Hugging Face pldrllm config.json", HelpName = "FILE", Required = true };
        var className = new Option<string?>("--class-name") { Description = "C# type name (default: from the folder name)", HelpName = "NAME" };
        var ns = new Option<string>("--namespace") { Description = "C# namespace", HelpName = "NS", DefaultValueFactory = _ => "PldrGen.Models" };
        var command = new Command("spec", "Print a *.pldr.yaml spec for a checkpoint's config.json") { fromConfig, className, ns };
        command.SetAction(result =>
        {
            string path = result.GetValue(fromConfig)!;
            var config = PldrConfig.Load(path);
            string folder = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? "Model";
            stdout.Write(SpecWriter.FromConfig(config, result.GetValue(className) ?? SpecWriter.ClassNameFor(folder), result.GetValue(ns)!, path));
            return 0;
        });
        return command;
    }
}
