using PldrGen.Runtime.Generation;

namespace PldrGen.Runtime.Research;

/// <summary>
/// Per deductive output (A, A_LM, A_P, G_LM; NaN where the model has none): the order parameter pooled over every
/// layer, head and prompt, and the mean and standard deviation (population) of the prompts' own values.
/// </summary>
public sealed record OrderParameterResult(int Prompts, int NewTokens, double[] Pooled, double[] Mean, double[] Std, double[][] PerPrompt);

/// <summary>
/// The order parameter of arXiv 2603.23539: for each prompt, the normalized RMSE by mean magnitude
/// sqrt(mean((X_uncached − X_cached)²)) / mean(|X_cached|) between the deductive outputs of the uncached run at its
/// last step (one forward over the prompt and all generated tokens but the last) and of the cached run after prefill.
/// </summary>
public static class OrderParameter
{
    public static OrderParameterResult Compute(IPldrModel model, PowerLawExponents? exponents, IReadOnlyList<int[]> prompts, int newTokens, SamplingOptions sampling)
    {
        if (prompts.Count == 0) throw new PldrException("no prompts given");
        if (newTokens < 1) throw new PldrException($"--max-new-tokens {newTokens}: must be at least 1");
        int outputs = DeductiveOutputs.Names.Length, vocab = model.Info.Config.VocabSize;
        var sumSquares = new double[outputs];
        var sumMagnitude = new double[outputs];
        long count = 0;
        var perPrompt = new double[prompts.Count][];
        for (int p = 0; p < prompts.Count; p++)
        {
            var prompt = prompts[p];
            if (prompt.Length + newTokens - 1 > model.Info.Config.MaxPositionEmbeddings)
                throw new PldrException($"prompt {p + 1}: {prompt.Length} tokens + {newTokens - 1} generated exceed the model's {model.Info.Config.MaxPositionEmbeddings} positions");
            model.Prefill(prompt);
            var cached = DeductiveOutputs.Capture(model, exponents);

            // Without caches every step is one forward over the whole sequence so far, A and G recomputed from it.
            var sampler = new Sampler(sampling, vocab);
            var sequence = new List<int>(prompt);
            for (int step = 0; step < newTokens - 1; step++) sequence.Add(sampler.Next(model.Prefill(sequence.ToArray())));
            model.Prefill(sequence.ToArray());
            var uncached = DeductiveOutputs.Capture(model, exponents);

            perPrompt[p] = new double[outputs];
            for (int o = 0; o < outputs; o++)
            {
                if (cached.Get(o) is not { } c || uncached.Get(o) is not { } u) { perPrompt[p][o] = double.NaN; continue; }
                double squares = 0, magnitude = 0;
                for (int i = 0; i < c.Length; i++)
                {
                    double d = (double)u[i] - c[i];
                    squares += d * d;
                    magnitude += Math.Abs((double)c[i]);
                }
                perPrompt[p][o] = Math.Sqrt(squares / c.Length) / (magnitude / c.Length);
                sumSquares[o] += squares;
                sumMagnitude[o] += magnitude;
            }
            count += cached.G.Length;
        }
        var pooled = new double[outputs];
        var mean = new double[outputs];
        var std = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            pooled[o] = double.IsNaN(perPrompt[0][o]) ? double.NaN : Math.Sqrt(sumSquares[o] / count) / (sumMagnitude[o] / count);
            mean[o] = perPrompt.Average(v => v[o]);
            std[o] = Math.Sqrt(perPrompt.Average(v => (v[o] - mean[o]) * (v[o] - mean[o])));
        }
        return new OrderParameterResult(prompts.Count, newTokens, pooled, mean, std, perPrompt);
    }
}
