using PldrGen.Runtime;
using PldrGen.Runtime.Generation;
using Xunit;

namespace PldrGen.Tests.Generation;

/// <summary>
/// The partial-selection sampler against <see cref="ReferenceSampler"/>, which sorts: the same kept tokens and
/// probabilities for every option, the same tokens on seeded draws, and exactly the argmax when greedy.
/// </summary>
public sealed class SamplerTests
{
    public static TheoryData<string> Options => new(Cases.Keys.ToArray());

    static readonly Dictionary<string, SamplingOptions> Cases = new()
    {
        ["default top-p 0.9"] = new(TopP: 0.9f),
        ["top-p 0.5"] = new(TopP: 0.5f),
        ["top-p 0.99"] = new(TopP: 0.99f),
        ["top-p 1e-6 keeps one"] = new(TopP: 1e-6f),
        ["top-k 1 greedy"] = new(TopK: 1),
        ["top-k 5"] = new(TopK: 5),
        ["top-k 300"] = new(TopK: 300),
        ["top-k 1000"] = new(TopK: 1000),
        ["temperature 0 greedy"] = new(Temperature: 0),
        ["temperature 0.5"] = new(Temperature: 0.5f),
        ["temperature 1.5"] = new(Temperature: 1.5f),
        ["temperature 3, top-p 0.9"] = new(Temperature: 3f, TopP: 0.9f),
        ["min-p 0.05"] = new() { MinP = 0.05f },
        ["min-p 0.5, temperature 0.7"] = new(Temperature: 0.7f) { MinP = 0.5f },
        ["temperature 0.7, top-p 0.9, top-k 40, min-p 0.02"] = new(0.7f, 40, 0.9f) { MinP = 0.02f },
        ["top-p 0.8 then top-k 2000"] = new(TopK: 2000, TopP: 0.8f),
        ["repetition 1.3"] = new() { RepetitionPenalty = 1.3f },
        ["repetition 0.8, top-p 0.9"] = new(TopP: 0.9f) { RepetitionPenalty = 0.8f },
        ["presence 1.5"] = new() { PresencePenalty = 1.5f },
        ["presence −1"] = new() { PresencePenalty = -1f },
        ["frequency 0.7, top-k 50"] = new(TopK: 50) { FrequencyPenalty = 0.7f },
        ["all penalties, greedy"] = new(Temperature: 0) { RepetitionPenalty = 1.2f, PresencePenalty = 0.5f, FrequencyPenalty = 0.5f },
    };

    /// <summary>Logits of several shapes: smooth, flat, peaked, heavily tied, and the demo model's own.</summary>
    static IEnumerable<(string Name, float[] Logits)> Logits()
    {
        var random = new Random(5);
        float[] Gaussian(int v, double sigma) => Enumerable.Range(0, v).Select(_ => (float)(sigma * Normal(random))).ToArray();
        yield return ("gaussian σ1 V4096", Gaussian(4096, 1));
        yield return ("gaussian σ4 V32000", Gaussian(32000, 4));
        yield return ("flat σ0.05 V32000", Gaussian(32000, 0.05));
        var peaked = Gaussian(4096, 1);
        for (int i = 0; i < 6; i++) peaked[random.Next(peaked.Length)] = 9 + i * 0.1f;
        yield return ("peaked V4096", peaked);
        yield return ("ties V4096", Gaussian(4096, 2).Select(x => MathF.Round(x * 2) / 2).ToArray());
        yield return ("all equal V512", new float[512]);
        using var reference = Fixtures.Reference("pldr-tiny-pydoc");
        var demo = reference.ReadFloat32("prefill.logits");
        int vocab = Fixtures.Config("pldr-tiny-pydoc").VocabSize;
        for (int row = 0; row < demo.Length / vocab; row += 2) yield return ($"demo position {row}", demo.AsSpan(row * vocab, vocab).ToArray());
    }

    [Theory, MemberData(nameof(Options))]
    public void Each_option_keeps_the_tokens_and_probabilities_of_the_sorting_reference(string option)
    {
        var o = Cases[option];
        int checkedCases = 0, cases = 0;
        foreach (var (name, logits) in Logits())
        {
            cases++;
            int[] prompt = [1, 7, 7, 42], output = [7, 9, 9, 9, 300];
            var sampler = Primed(o, logits.Length, prompt, output);
            var (expected, ambiguous) = ReferenceSampler.Distribution(logits, o, prompt, output);
            if (ambiguous) continue;
            var actual = sampler.Probabilities(logits);
            for (int i = 0; i < logits.Length; i++)
            {
                Assert.True(expected[i] > 0 == actual[i] > 0, $"{option}, {name}: token {i} is {(actual[i] > 0 ? "kept" : "dropped")}, the reference {(expected[i] > 0 ? "keeps" : "drops")} it");
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 + 1e-5 * expected[i], $"{option}, {name}: p[{i}] = {actual[i]}, reference {expected[i]}");
            }
            checkedCases++;
        }
        Assert.True(checkedCases >= cases * 3 / 4, $"{option}: only {checkedCases} of {cases} logit sets were unambiguous");
    }

    [Theory, MemberData(nameof(Options))]
    public void Seeded_draws_are_the_reference_draws(string option)
    {
        var o = Cases[option] with { Seed = 11 };
        var random = new Random(2);
        int vocab = 4096;
        var steps = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, vocab).Select(_ => (float)(2 * Normal(random))).ToArray()).ToArray();
        int[] prompt = [5, 6, 7];
        var sampler = new Sampler(o, vocab, prompt);
        var uniform = new Random(11);
        var output = new List<int>();
        int compared = 0;
        foreach (var logits in steps)
        {
            var (p, ambiguousCut) = ReferenceSampler.Distribution(logits, o, prompt, output);
            bool greedy = o.TopK == 1 || o.Temperature == 0;
            var (expected, ambiguousDraw) = greedy ? (Array.IndexOf(p, 1.0), false) : ReferenceSampler.Draw(p, uniform.NextDouble());
            int actual = sampler.Next(logits);
            output.Add(actual);
            if (ambiguousCut || ambiguousDraw) continue; // float32 rounding may decide this one; the streams stay aligned
            Assert.Equal(expected, actual);
            compared++;
        }
        Assert.True(compared >= 250, $"{option}: only {compared} of {steps.Length} draws were unambiguous");
    }

    [Fact]
    public void Greedy_is_exactly_the_argmax()
    {
        var random = new Random(3);
        var sampler = new Sampler(SamplingOptions.Greedy, 32000);
        for (int step = 0; step < 50; step++)
        {
            var logits = Enumerable.Range(0, 32000).Select(_ => (float)Normal(random)).ToArray();
            Assert.Equal(Array.IndexOf(logits, logits.Max()), sampler.Next(logits));
        }
    }

    [Fact]
    public void A_seed_repeats_its_draws_and_no_seed_draws_one_that_repeats_them()
    {
        var logits = Enumerable.Range(0, 4096).Select(i => MathF.Sin(i)).ToArray();
        int[] Draws(Sampler s) => [.. Enumerable.Range(0, 40).Select(_ => s.Next(logits))];
        var unseeded = new Sampler(new SamplingOptions(TopP: 0.9f), logits.Length);
        var first = Draws(unseeded);
        Assert.Equal(first, Draws(new Sampler(new SamplingOptions(TopP: 0.9f, Seed: unseeded.Seed), logits.Length)));
        Assert.Equal(Draws(new Sampler(new SamplingOptions(TopP: 0.9f, Seed: 4), logits.Length)), Draws(new Sampler(new SamplingOptions(TopP: 0.9f, Seed: 4), logits.Length)));
        Assert.NotEqual(unseeded.Seed, new Sampler(new SamplingOptions(TopP: 0.9f), logits.Length).Seed); // 1 in 2³¹ to fail by chance
    }

    [Theory]
    [InlineData(-0.5f, 0, 1f, 0f, 1f, "temperature must be ≥ 0 (0 = greedy), got -0.5")]
    [InlineData(1f, -1, 1f, 0f, 1f, "top-k must be 0 (off) or positive, got -1")]
    [InlineData(1f, 0, 0f, 0f, 1f, "top-p must be in (0, 1], got 0")]
    [InlineData(1f, 0, 1f, 1f, 1f, "min-p must be in [0, 1), got 1")]
    [InlineData(1f, 0, 1f, 0f, 0f, "repetition penalty must be > 0 (1 = off), got 0")]
    public void Out_of_range_options_are_refused_by_name(float temperature, int topK, float topP, float minP, float repetition, string message)
    {
        var o = new SamplingOptions(temperature, topK, topP) { MinP = minP, RepetitionPenalty = repetition };
        Assert.Equal(message, Assert.Throws<PldrException>(() => new Sampler(o, 16)).Message);
    }

    /// <summary>A sampler whose output so far is <paramref name="output"/> (each forced by a dominant logit).</summary>
    static Sampler Primed(SamplingOptions o, int vocab, int[] prompt, int[] output)
    {
        var sampler = new Sampler(o, vocab, prompt);
        foreach (int token in output)
        {
            var forced = new float[vocab];
            forced[token] = 1e30f;
            Assert.Equal(token, sampler.Next(forced));
        }
        return sampler;
    }

    static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
