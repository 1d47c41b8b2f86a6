using PldrGen.Runtime;
using System.CommandLine;
using PldrGen.Runtime.Research;

namespace PldrGen.CommandLine;

/// <summary><c>pldr inspect</c>: one picture of a prompt's deductive outputs (heatmaps per layer and head, or histograms).</summary>
static class InspectCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new ModelOptions();
        var output = new Option<string>("--out") { Description = "The PNG to write", HelpName = "FILE.png", Required = true };
        var histogram = new Option<bool>("--histogram") { Description = "The distributions of A, A_LM, A_P and G_LM per layer instead of heatmaps" };
        var json = ResearchOptions.Json();
        var command = new Command("inspect", "Draw the deductive outputs A, A_LM, G_LM of a prompt's prefill, per layer and head");
        model.AddTo(command);
        command.Add(output);
        command.Add(histogram);
        command.Add(json);
        command.SetAction(result =>
        {
            var painter = DeductivePictures.Painter ?? throw new PldrException(
                "inspect: this pldr has no plotting library (the NativeAOT build leaves ScottPlot out); use the JIT build: dotnet run --project src/PldrGen.Cli -- inspect …");
            string directory = model.ModelDirectory(result);
            var info = ModelResolver.Resolve(directory);
            var pldr = info.Load(directory);
            var prompt = model.PromptTokens(result, ModelOptions.TokenizerOf(directory), info.Config);
            pldr.Prefill(prompt);
            var outputs = DeductiveOutputs.Capture(pldr, PowerLawExponents.Load(directory, info.Config));
            string path = result.GetValue(output)!, text = result.GetValue(model.Prompt) ?? $"{prompt.Length} tokens";
            bool distributions = result.GetValue(histogram);
            string title = $"{info.Name}: {(distributions ? "distributions of the deductive outputs" : "A, A_LM, G_LM per layer and head")} after the prefill of \"{text}\"";
            if (distributions) painter.Histograms(outputs, info.Config, title, path);
            else painter.Heatmaps(outputs, info.Config, title, path);
            if (result.GetValue(json)) ResearchOptions.WriteJson(stdout, j => { j.WriteString("path", path); j.WriteNumber("prompt_tokens", prompt.Length); });
            else stdout.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }
}
