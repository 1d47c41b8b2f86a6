using PldrGen.Runtime;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Tests.Models;
using Xunit;

namespace PldrGen.Tests.Engine;

/// <summary>
/// The engine's whole-forward jobs against the float64 reference forward pass: a text's scores are the log-softmax of
/// its prefill logits, a prompt's captured G-cache is the fixture's prefill G_LM, and neither disturbs running sequences.
/// </summary>
public sealed class EngineScoringTests
{
    static PldrEngine Engine(string fixture, int slots = 2) =>
        PldrEngine.Load(CompiledModels.Info(fixture), Fixtures.ModelDir(fixture), new EngineOptions { Slots = slots });

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public async Task Scores_are_the_log_softmax_of_the_reference_prefill_logits(string fixture)
    {
        using var reference = Fixtures.Reference(fixture);
        using var reference64 = Fixtures.Reference64(fixture);
        int[] prompt = reference.ReadInt32("prompt");
        var logits = reference64.ReadFloat64("prefill.logits");
        int vocab = logits.Length / prompt.Length;
        using var engine = Engine(fixture);

        var scores = await engine.ScoreAsync(prompt, topLogProbs: 3);

        Assert.Equal(prompt.Length - 1, scores.Length);
        for (int t = 0; t < scores.Length; t++)
        {
            var row = logits[(t * vocab)..((t + 1) * vocab)];
            double max = double.NegativeInfinity, sum = 0;
            foreach (double x in row) max = Math.Max(max, x);
            foreach (double x in row) sum += Math.Exp(x - max);
            double logSumExp = max + Math.Log(sum);
            Assert.Equal(prompt[t + 1], scores[t].Id);
            Assert.Equal(row[prompt[t + 1]] - logSumExp, scores[t].LogProb, 1e-4);
            int[] likeliest = [.. Enumerable.Range(0, vocab).OrderByDescending(i => row[i]).Take(3)];
            Assert.Equal(likeliest, scores[t].Top.Select(s => s.Id));
            for (int k = 0; k < 3; k++) Assert.Equal(row[likeliest[k]] - logSumExp, scores[t].Top[k].LogProb, 1e-4);
        }
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public async Task A_captured_g_cache_is_the_reference_prefill_g(string fixture)
    {
        using var reference = Fixtures.Reference(fixture);
        using var engine = Engine(fixture);

        var g = await engine.CaptureGCacheAsync(reference.ReadInt32("prompt"));

        // the bound of the model's own G_LM test (GeneratedModelTests): float32 against the authors' float32 file
        for (int l = 0; l < g.Layers; l++)
            Compare.AssertClose($"{fixture} layer{l}.G_LM", reference.ReadFloat32($"layer{l}.G_LM"), g.LayerG(l).ToArray(), 2e-4, relTol: 2e-4);
    }

    [Fact]
    public async Task Jobs_beside_running_sequences_change_none_of_their_tokens()
    {
        const string fixture = "pldr-tiny-pydoc";
        using var reference = Fixtures.Reference(fixture);
        int[] prompt = reference.ReadInt32("prompt");
        var options = new GenerateOptions { MaxTokens = 40, IgnoreEos = true, Sampling = SamplingOptions.Greedy };
        using var engine = Engine(fixture, slots: 4);
        var alone = await engine.CompleteAsync(prompt, options);

        var running = Enumerable.Range(0, 4).Select(_ => engine.CompleteAsync(prompt, options)).ToArray();
        var jobs = Enumerable.Range(0, 8).Select(i => i % 2 == 0 ? (Task)engine.ScoreAsync(prompt, 5) : engine.CaptureGCacheAsync(prompt)).ToArray();
        await Task.WhenAll(jobs);
        foreach (var result in await Task.WhenAll(running)) Assert.Equal(alone.TokenIds, result.TokenIds);
        Assert.Equal(0, engine.SlotsBusy);
    }

    [Fact]
    public async Task Bad_texts_and_options_are_refused_by_name()
    {
        using var engine = Engine("tiny-v510");
        int vocab = engine.Info.Config.VocabSize, context = engine.Info.Config.MaxPositionEmbeddings;
        Assert.Contains("no tokens", (await Assert.ThrowsAsync<PldrException>(() => engine.ScoreAsync(Array.Empty<int>()))).Message);
        Assert.Contains("outside the vocabulary", (await Assert.ThrowsAsync<PldrException>(() => engine.ScoreAsync(new[] { 1, vocab }))).Message);
        Assert.Contains("context", (await Assert.ThrowsAsync<PldrException>(() => engine.CaptureGCacheAsync(new int[context + 1]))).Message);
        Assert.Contains("top logprobs", (await Assert.ThrowsAsync<PldrException>(() => engine.ScoreAsync(new[] { 1, 2 }, GenerateOptions.MaxTopLogProbs + 1))).Message);
    }
}
