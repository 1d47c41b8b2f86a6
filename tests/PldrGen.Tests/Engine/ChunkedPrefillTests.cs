using PldrGen.Runtime;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Tests.Models;
using Xunit;

namespace PldrGen.Tests.Engine;

/// <summary>
/// A prompt prefilled a layer at a time between other sequences' work gives the very logits and G-cache of a whole
/// <c>Prefill</c>, and the engine's chunked prefill admits prompts mid-stream without changing any sequence's
/// tokens or logits, or losing a request.
/// </summary>
public sealed class ChunkedPrefillTests
{
    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void A_prefill_a_layer_at_a_time_gives_the_logits_and_g_cache_of_a_whole_prefill(string fixture)
    {
        using var reference = Fixtures.Reference(fixture);
        int[] prompt = reference.ReadInt32("prompt");
        var whole = (ICpuModel)CompiledModels.Load(fixture);
        float[] expected = whole.Prefill(prompt).ToArray();
        var expectedG = whole.CaptureGCache();

        var staged = (LayeredPldrModel<CpuSequence>)whole.Share();
        var other = whole.Share(); // runs between the stages on the same weights and workers
        staged.BeginPrefill(prompt);
        for (int layer = 0; layer < whole.Info.Config.NumHiddenLayers; layer++)
        {
            other.Prefill(prompt[..Math.Max(1, prompt.Length / 2)]);
            other.Decode(prompt[0]);
            staged.PrefillLayer(layer);
        }
        Assert.True(expected.AsSpan().SequenceEqual(staged.EndPrefill()), $"{fixture}: logits differ from a whole prefill");
        var g = staged.CaptureGCache();
        Assert.True(expectedG.A.AsSpan().SequenceEqual(g.A) && expectedG.ALm.AsSpan().SequenceEqual(g.ALm) && expectedG.G.AsSpan().SequenceEqual(g.G),
            $"{fixture}: the G-cache differs from a whole prefill");
        Assert.Equal(prompt.Length, staged.Position);
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public async Task Prompts_admitted_mid_stream_give_exactly_what_each_gives_alone(string fixture)
    {
        var config = Fixtures.Config(fixture);
        var random = new Random(11);
        var requests = Enumerable.Range(0, 9).Select(i => (
            Prompt: Enumerable.Range(0, random.Next(1, Math.Min(40, config.MaxPositionEmbeddings - 20))).Select(_ => random.Next(4, config.VocabSize)).ToArray(),
            Options: new GenerateOptions
            {
                MaxTokens = i == 0 ? 20 : 6, IgnoreEos = true, ReturnLogits = true,
                Sampling = i % 2 == 0 ? SamplingOptions.Greedy : new SamplingOptions(TopP: 0.9f, Seed: i),
            })).ToArray();
        // A budget of one token × layer: every turn runs one layer of one prompt, then a decode step.
        using var engine = PldrEngine.Load(CompiledModels.Info(fixture), Fixtures.ModelDir(fixture), new EngineOptions { Slots = 3, PrefillBudget = 1 });
        var (running, streamed) = Stream(engine, requests[0].Prompt, requests[0].Options);
        while (streamed[0] < 2 && !running.IsCompleted) await Task.Delay(1);
        var later = await Task.WhenAll(requests.Skip(1).Select(r => Task.Run(() => engine.CompleteAsync(r.Prompt, r.Options))));
        var results = new[] { await running }.Concat(later.Select(r => r.Tokens.ToList())).ToArray();
        for (int i = 0; i < requests.Length; i++)
        {
            var alone = TextGeneration.Run(CompiledModels.Load(fixture), requests[i].Prompt,
                new GenerationOptions(requests[i].Options.MaxTokens, requests[i].Options.Sampling, IgnoreEos: true, KeepLogits: true));
            Assert.Equal(alone.Tokens, results[i].Select(t => t.Id));
            for (int t = 0; t < alone.Logits.Count; t++)
                Assert.True(alone.Logits[t].AsSpan().SequenceEqual(results[i][t].Logits), $"{fixture}, request {i}, token {t}: logits differ from the sequence alone");
        }
    }

    /// <summary>Streams one request in the background; <c>streamed[0]</c> counts its tokens so far.</summary>
    static (Task<List<GeneratedToken>> Tokens, int[] Streamed) Stream(PldrEngine engine, int[] prompt, GenerateOptions options)
    {
        var streamed = new int[1];
        var tokens = Task.Run(async () =>
        {
            var list = new List<GeneratedToken>();
            await foreach (var token in engine.GenerateAsync(prompt, options))
            {
                list.Add(token);
                Interlocked.Increment(ref streamed[0]);
            }
            return list;
        });
        return (tokens, streamed);
    }

    public static TheoryData<string> ExternalFixtures => Fixtures.ModelsWith("external.tokens");

    [Theory, MemberData(nameof(ExternalFixtures))]
    public async Task A_group_prompt_admitted_beside_the_first_of_its_group_waits_for_its_g(string fixture)
    {
        using var reference = Fixtures.Reference(fixture);
        var expected = reference.ReadInt32("external.tokens");
        var greedy = new GenerateOptions { MaxTokens = expected.Length, IgnoreEos = true, Sampling = SamplingOptions.Greedy, G = GPolicy.FirstOfGroup("donor") };
        using var engine = PldrEngine.Load(CompiledModels.Info(fixture), Fixtures.ModelDir(fixture), new EngineOptions { Slots = 3, PrefillBudget = 1 });
        // a running stream keeps the budget in force, so the donor's prefill is still going when the second arrives
        var (running, streamed) = Stream(engine, reference.ReadInt32("prompt"), greedy with { MaxTokens = 40, G = GPolicy.OwnPrefill });
        while (streamed[0] < 1 && !running.IsCompleted) await Task.Delay(1);
        var donor = engine.CompleteAsync(reference.ReadInt32("external.prompt"), greedy);
        var grouped = engine.CompleteAsync(reference.ReadInt32("prompt"), greedy);
        await Task.WhenAll(donor, grouped, running);
        Assert.Equal(expected, (await grouped).TokenIds);
    }
}
