using PldrGen.Runtime.Checkpoints;
using Xunit;
using Xunit.Abstractions;

namespace PldrGen.Tests.Reference;

/// <summary>The float64 reference forward pass against the authors' float64 fixtures (reference64.safetensors).</summary>
public sealed class ReferenceModelTests(ITestOutputHelper output)
{
    // Tolerances, as |Δ| ≤ abs + rel·|expected|.
    // Tensors reference64 holds in full float64 (prefill.logits, A, A_LM, G_LM): measured max abs 1e-13 on logits and
    // 1.4e-12 on G_LM (pldr-tiny-pydoc layer 3), max rel 8e-11 (on near-zero entries); summation order is the rest.
    const double Abs64 = 1e-11, Rel64 = 1e-11;
    // Decoding logits (greedy.*, nocache.*, external.logits) are stored in reference64 rounded to float32 (every value
    // is a float32): allow that rounding, |Δ| ≤ 2⁻²⁴·|expected|, on top of the float64 noise.
    const double Float32Rounding = 1.0 / (1 << 24);

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Prefill_logits_and_deductive_outputs_match(string name)
    {
        var model = ReferenceModel.Load(Fixtures.ModelDir(name));
        using var expected = Fixtures.Reference64(name);
        var logits = model.Forward(expected.ReadInt32("prompt"));

        Check(expected, "prefill.logits", logits, model.Config.VocabSize);
        for (int l = 0; l < model.Config.NumHiddenLayers; l++)
        {
            var d = model.Deductive[l];
            if (model.Config.LearnedG)
            {
                Check(expected, $"layer{l}.A", d.A!);
                Check(expected, $"layer{l}.A_LM", d.A_LM!);
            }
            else Assert.Null(d.A);
            Check(expected, $"layer{l}.G_LM", d.G_LM);
        }
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Greedy_with_kv_and_g_cache_matches(string name)
    {
        var model = ReferenceModel.Load(Fixtures.ModelDir(name));
        using var expected = Fixtures.Reference64(name);
        var tokens = expected.ReadInt32("greedy.tokens");
        var (actualTokens, logits) = model.GreedyCached(expected.ReadInt32("prompt"), tokens.Length);

        Compare.AssertTokens($"{name} greedy.tokens", tokens, actualTokens);
        CheckFloat32Rounded(expected, "greedy.logits", logits, model.Config.VocabSize);
    }

    [Theory, MemberData(nameof(Fixtures.ModelsWith), "nocache.tokens", MemberType = typeof(Fixtures))]
    public void Greedy_without_cache_matches(string name)
    {
        using var expected = Fixtures.Reference64(name);
        var model = ReferenceModel.Load(Fixtures.ModelDir(name));
        var tokens = expected.ReadInt32("nocache.tokens");
        var (actualTokens, logits) = model.GreedyNoCache(expected.ReadInt32("prompt"), tokens.Length);

        Compare.AssertTokens($"{name} nocache.tokens", tokens, actualTokens);
        CheckFloat32Rounded(expected, "nocache.logits", logits, model.Config.VocabSize);
    }

    [Theory, MemberData(nameof(Fixtures.ModelsWith), "external.tokens", MemberType = typeof(Fixtures))]
    public void Greedy_with_another_prompts_g_cache_matches(string name)
    {
        using var expected = Fixtures.Reference64(name);
        var model = ReferenceModel.Load(Fixtures.ModelDir(name));

        // The G-cache of external.prompt's prefill …
        model.Forward(expected.ReadInt32("external.prompt"));
        var g = Array.ConvertAll(model.Deductive, d => d.G_LM);
        for (int l = 0; l < g.Length; l++) Check(expected, $"external.layer{l}.G_LM", g[l]);

        // … drives the decoding of prompt from prefill on.
        var tokens = expected.ReadInt32("external.tokens");
        var (actualTokens, logits) = model.GreedyCached(expected.ReadInt32("prompt"), tokens.Length, g);
        Compare.AssertTokens($"{name} external.tokens", tokens, actualTokens);
        CheckFloat32Rounded(expected, "external.logits", logits, model.Config.VocabSize);
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Float64_reference_reproduces_the_float32_token_sequences(string name)
    {
        var model = ReferenceModel.Load(Fixtures.ModelDir(name));
        using var float32 = Fixtures.Reference(name);
        int[] prompt = float32.ReadInt32("prompt");

        // (The float32 logits' distance from the exact math is logged: it is the float32 noise floor.)
        output.WriteLine($"float32 prefill.logits vs float64 reference: {Compare.Measure(float32.ReadFloat32("prefill.logits"), model.Forward(prompt))}");

        var greedy = float32.ReadInt32("greedy.tokens");
        var cached = model.GreedyCached(prompt, greedy.Length);
        Compare.AssertTokens($"{name} greedy.tokens (float32 file)", greedy, cached.Tokens);
        output.WriteLine($"float32 greedy.logits vs float64 reference: {Compare.Measure(float32.ReadFloat32("greedy.logits"), cached.Logits)}");
        if (float32.Contains("nocache.tokens"))
        {
            var nocache = float32.ReadInt32("nocache.tokens");
            var uncached = model.GreedyNoCache(prompt, nocache.Length);
            Compare.AssertTokens($"{name} nocache.tokens (float32 file)", nocache, uncached.Tokens);
            output.WriteLine($"float32 nocache.logits vs float64 reference: {Compare.Measure(float32.ReadFloat32("nocache.logits"), uncached.Logits)}");
        }
        if (float32.Contains("external.tokens"))
        {
            model.Forward(float32.ReadInt32("external.prompt"));
            var g = Array.ConvertAll(model.Deductive, d => d.G_LM);
            var external = float32.ReadInt32("external.tokens");
            var transferred = model.GreedyCached(prompt, external.Length, g);
            Compare.AssertTokens($"{name} external.tokens (float32 file)", external, transferred.Tokens);
            output.WriteLine($"float32 external.logits vs float64 reference: {Compare.Measure(float32.ReadFloat32("external.logits"), transferred.Logits)}");
        }
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Cached_decoding_equals_a_full_pass_with_the_frozen_g(string name)
    {
        // The KV-cache path computes one position per step; a full causal pass over the same tokens with the
        // prefill's G injected must give the same logits (up to summation order).
        var model = ReferenceModel.Load(Fixtures.ModelDir(name));
        using var expected = Fixtures.Reference64(name);
        int[] prompt = expected.ReadInt32("prompt");
        const int steps = 8;
        var (tokens, logits) = model.GreedyCached(prompt, steps);
        var g = Array.ConvertAll(model.Deductive, d => d.G_LM);

        int[] sequence = [.. prompt, .. tokens[..^1]];
        var full = model.Forward(sequence, g);
        int v = model.Config.VocabSize;
        var tail = full.AsSpan((prompt.Length - 1) * v, steps * v);
        var errors = Compare.AssertClose($"{name} cached vs full pass", tail, logits, 1e-12, 1e-12, v);
        output.WriteLine($"{name} cached vs full pass with frozen G: {errors}");
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Exact_attention_scale_would_move_logits_by_less_than_1e_7(string name)
    {
        // The authors' code divides scores by √dk computed in float32, also in its float64 runs; the reference
        // does the same. With the exact root (it differs where dk is not a perfect square: odd-v510 dk 12,
        // pldr-tiny-pydoc dk 32) the logits move by a relative ~1e-8 of the scores.
        using var expected = Fixtures.Reference64(name);
        var exact = ReferenceModel.Load(Fixtures.ModelDir(name), float32AttentionScale: false);
        var logits = exact.Forward(expected.ReadInt32("prompt"));
        var errors = Compare.AssertClose($"{name} prefill.logits with exact √dk", expected.ReadFloat64("prefill.logits"), logits,
            1e-7, 0, exact.Config.VocabSize);
        output.WriteLine($"prefill.logits with exact √dk: {errors}");
    }

    void Check(SafeTensorsFile expected, string tensor, double[] actual, int rowLength = 0)
    {
        var errors = Compare.AssertClose($"{ModelName(expected)} {tensor}", expected.ReadFloat64(tensor), actual,
            Abs64, Rel64, rowLength, rowLength > 0 ? "step" : "row");
        output.WriteLine($"{tensor}: {errors}");
    }

    void CheckFloat32Rounded(SafeTensorsFile expected, string tensor, double[] actual, int rowLength)
    {
        var values = expected.ReadFloat64(tensor);
        var errors = Compare.AssertClose($"{ModelName(expected)} {tensor} (float32-rounded in the fixture)", values, actual,
            Abs64, Float32Rounding, rowLength);
        int identical = 0;
        for (int i = 0; i < values.Length; i++) if ((float)actual[i] == values[i]) identical++;
        output.WriteLine($"{tensor}: {errors}; rounded to float32: {identical} of {values.Length} bit-identical");
    }

    static string ModelName(SafeTensorsFile file) => Path.GetFileName(Path.GetDirectoryName(file.Path)) ?? file.Path;
}
