using PldrGen.Runtime;
using System.CommandLine;
using System.Globalization;
using PldrGen.Runtime.Research;

namespace PldrGen.CommandLine;

/// <summary><c>pldr invariance</c>: how far each prompt's G_LM lies from the mean over prompts, per layer and head.</summary>
static class InvarianceCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new ModelOptions();
        var prompts = ResearchOptions.Prompts();
        var json = ResearchOptions.Json();
        var command = new Command("invariance", "G_LM's dependence on the input: relative Frobenius distance from the mean over prompts, spread of log|det G_LM|")
            { model.Model, prompts, json };
        command.SetAction(result =>
        {
            var (pldr, tokenizer, _) = ResearchOptions.Load(model, result);
            var invariance = Invariance.Compute(pldr, ResearchOptions.ReadPrompts(result.GetValue(prompts)!, tokenizer));
            if (result.GetValue(json))
                ResearchOptions.WriteJson(stdout, j =>
                {
                    j.WriteNumber("prompts", invariance.Prompts);
                    j.WriteNumber("mean_distance", invariance.MeanDistance);
                    j.WriteNumber("max_distance", invariance.MaxDistance);
                    j.WriteStartArray("heads");
                    foreach (var h in invariance.Heads)
                    {
                        j.WriteStartObject();
                        j.WriteNumber("layer", h.Layer);
                        j.WriteNumber("head", h.Head);
                        j.WriteNumber("mean_distance", h.MeanDistance);
                        j.WriteNumber("max_distance", h.MaxDistance);
                        ResearchOptions.WriteNumber(j, "logdet_mean", h.LogDetMean);
                        ResearchOptions.WriteNumber(j, "logdet_std", h.LogDetStd);
                        j.WriteEndObject();
                    }
                    j.WriteEndArray();
                });
            else
            {
                stdout.WriteLine($"G_LM over {invariance.Prompts} prompts: ‖G − mean G‖ / ‖mean G‖ (Frobenius) and log|det G|");
                stdout.WriteLine("layer head  mean dist   max dist  logdet mean  logdet std");
                foreach (var h in invariance.Heads)
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{h.Layer,5} {h.Head,4} {h.MeanDistance,10:F6} {h.MaxDistance,10:F6} {h.LogDetMean,12:F4} {h.LogDetStd,11:F4}"));
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"all heads: mean distance {invariance.MeanDistance:F6}, max {invariance.MaxDistance:F6}"));
            }
            return 0;
        });
        return command;
    }
}
