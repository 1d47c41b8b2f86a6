using PldrGen.Runtime;
using System.CommandLine;
using System.Globalization;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Research;

namespace PldrGen.CommandLine;

/// <summary>
/// <c>pldr order-parameter</c>: per deductive output, the normalized RMSE between each prompt's uncached run at its
/// last step and its cached run after prefill (arXiv 2603.23539), pooled, and its mean and deviation over prompts.
/// </summary>
static class OrderParameterCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new ModelOptions();
        var prompts = ResearchOptions.Prompts();
        var newTokens = new Option<int>("--max-new-tokens") { Description = "Tokens the uncached run generates (its last step sees the prompt and all but the last)", DefaultValueFactory = _ => 32, HelpName = "N" };
        var greedy = new Option<bool>("--greedy") { Description = "Take the likeliest token (the default unless a sampling option is given)" };
        var temperature = new Option<float?>("--temperature") { Description = "Sample: divide logits by T when T < 1", HelpName = "T" };
        var topK = new Option<int?>("--top-k") { Description = "Sample from the K likeliest tokens", HelpName = "K" };
        var topP = new Option<float?>("--top-p") { Description = "Sample from the likeliest tokens up to cumulative probability P", HelpName = "P" };
        var seed = new Option<int>("--seed") { Description = "Random seed of the sampling (each prompt starts from it)", DefaultValueFactory = _ => 0, HelpName = "S" };
        var json = ResearchOptions.Json();
        var command = new Command("order-parameter", "The order parameter of the deductive outputs A, A_LM, A_P, G_LM (cached vs uncached runs)")
            { model.Model, prompts, newTokens, greedy, temperature, topK, topP, seed, json };
        command.SetAction(result =>
        {
            bool sample = result.GetValue(temperature) is not null || result.GetValue(topK) is not null || result.GetValue(topP) is not null;
            if (sample && result.GetValue(greedy)) throw new PldrException("give --greedy or sampling options (--temperature, --top-k, --top-p), not both");
            var sampling = sample
                ? new SamplingOptions(result.GetValue(temperature) ?? 1f, result.GetValue(topK) ?? 0, result.GetValue(topP) ?? 1f, result.GetValue(seed))
                : SamplingOptions.Greedy;
            sampling.Validate();
            var (pldr, tokenizer, directory) = ResearchOptions.Load(model, result);
            var order = OrderParameter.Compute(pldr, PowerLawExponents.Load(directory, pldr.Info.Config),
                ResearchOptions.ReadPrompts(result.GetValue(prompts)!, tokenizer), result.GetValue(newTokens), sampling);
            if (result.GetValue(json)) WriteJson(stdout, order, sample ? "sampling" : "greedy");
            else WriteTable(stdout, order, sample ? "sampling" : "greedy");
            return 0;
        });
        return command;
    }

    static void WriteJson(TextWriter stdout, OrderParameterResult order, string decoding) =>
        ResearchOptions.WriteJson(stdout, j =>
        {
            j.WriteNumber("prompts", order.Prompts);
            j.WriteNumber("new_tokens", order.NewTokens);
            j.WriteString("decoding", decoding);
            for (int o = 0; o < DeductiveOutputs.Names.Length; o++) ResearchOptions.WriteNumber(j, DeductiveOutputs.Names[o], order.Pooled[o]);
            foreach (var (name, values) in new[] { ("mean", order.Mean), ("std", order.Std) })
            {
                j.WriteStartObject(name);
                for (int o = 0; o < DeductiveOutputs.Names.Length; o++) ResearchOptions.WriteNumber(j, DeductiveOutputs.Names[o], values[o]);
                j.WriteEndObject();
            }
        });

    static void WriteTable(TextWriter stdout, OrderParameterResult order, string decoding)
    {
        stdout.WriteLine($"order parameter over {order.Prompts} prompts, {order.NewTokens} new tokens ({decoding}): normalized RMSE, uncached last step vs cached prefill");
        stdout.WriteLine("output      pooled        mean         std");
        for (int o = 0; o < DeductiveOutputs.Names.Length; o++)
            stdout.WriteLine(double.IsNaN(order.Pooled[o])
                ? $"{DeductiveOutputs.Names[o],-6}  (none: custom-G model)"
                : string.Create(CultureInfo.InvariantCulture, $"{DeductiveOutputs.Names[o],-6} {order.Pooled[o],11:F6} {order.Mean[o],11:F6} {order.Std[o],11:F6}"));
    }
}
