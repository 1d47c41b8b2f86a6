using PldrGen.Runtime;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Tests;
using PldrGen.Tests.Models;
using PldrGen.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace PldrGen.Ilgpu.Tests;

/// <summary>
/// Slots over one ILGPU model (one device copy of the weights) and their batched decode step: through the engine,
/// many prompts together give exactly the tokens and logits each gives alone on the same accelerator, and the CPU
/// model's logits within the model tests' tolerance; a step launches each kernel once, whatever its rows.
/// </summary>
[Collection(DeviceCollection.Name)]
public sealed class BatchTests(TestDevice device, ITestOutputHelper output)
{
    const int Prompts = 8, NewTokens = 8;
    // Relative to the row's largest |logit| (at least 1). ModelTests hold 1e-4 on the fixtures' own prompts; on these
    // random ones odd-v510's float32 prefill is already 3.6e-4 from float64 (the CPU path's too), so 1e-3, ModelTests'
    // tolerance for the fixtures' noisiest mode.
    const double LogitTolerance = 1e-3;

    public static TheoryData<string> Models => new(Fixtures.ModelNames);

    IlgpuModelBase Load(string fixture) =>
        (IlgpuModelBase)IlgpuModelCatalog.Find(CompiledModels.Info(fixture).TypeName)(Fixtures.ModelDir(fixture), device.Accelerator);

    /// <summary>The fixture's prompt and others of different lengths; even ones greedy, odd ones seeded top-p.</summary>
    static (int[] Prompt, GenerateOptions Options)[] Requests(string fixture)
    {
        using var reference = Fixtures.Reference(fixture);
        var config = Fixtures.Config(fixture);
        var random = new Random(11);
        return [.. Enumerable.Range(0, Prompts).Select(i => (
            i == 0 ? reference.ReadInt32("prompt") : Enumerable.Range(0, random.Next(1, Math.Min(30, config.MaxPositionEmbeddings - NewTokens))).Select(_ => random.Next(4, config.VocabSize)).ToArray(),
            new GenerateOptions
            {
                MaxTokens = NewTokens, IgnoreEos = true, ReturnLogits = true,
                Sampling = i % 2 == 0 ? SamplingOptions.Greedy : new SamplingOptions(TopP: 0.9f, Seed: i),
            }))];
    }

    [Theory, MemberData(nameof(Models))]
    public async Task Prompts_together_give_exactly_the_tokens_and_logits_each_gives_alone(string fixture)
    {
        var requests = Requests(fixture);
        using var lone = Load(fixture);
        var alone = Array.ConvertAll(requests, r => TextGeneration.Run(lone, r.Prompt,
            new GenerationOptions(r.Options.MaxTokens, r.Options.Sampling, IgnoreEos: true, KeepLogits: true)));
        foreach (int slots in new[] { Prompts, 3 })
        {
            using var engine = new PldrEngine(Load(fixture), tokenizer: null, new EngineOptions { Slots = slots });
            Assert.True(engine.BatchedDecode);
            var together = await Task.WhenAll(requests.Select(r => Task.Run(() => engine.CompleteAsync(r.Prompt, r.Options))));
            for (int i = 0; i < requests.Length; i++)
            {
                Assert.Equal(alone[i].Tokens, together[i].TokenIds);
                for (int t = 0; t < NewTokens; t++)
                    Assert.True(alone[i].Logits[t].AsSpan().SequenceEqual(together[i].Tokens[t].Logits),
                        $"{fixture}, {slots} slots, request {i}, token {t}: logits differ from the sequence alone on {device}");
            }
            if (slots == Prompts) CheckAgainstReference(fixture, requests, together);
        }
    }

    /// <summary>The float64 reference fed the same tokens gives every step's logits within the model tests' tolerance.</summary>
    void CheckAgainstReference(string fixture, (int[] Prompt, GenerateOptions Options)[] requests, GenerateResult[] together)
    {
        var reference = ReferenceModel.Load(Fixtures.ModelDir(fixture));
        int vocab = reference.Config.VocabSize;
        double worst = 0;
        for (int i = 0; i < requests.Length; i++)
        {
            var (prefill, cache) = reference.Prefill(requests[i].Prompt);
            var row = prefill[^vocab..];
            for (int t = 0; t < NewTokens; t++)
            {
                double scale = Math.Max(1, row.Max(Math.Abs));
                var errors = Compare.AssertClose($"{fixture} request {i} token {t} against the float64 reference", row, Array.ConvertAll(together[i].Tokens[t].Logits!, v => (double)v), LogitTolerance * scale);
                worst = Math.Max(worst, errors.MaxAbs / scale);
                if (t + 1 < NewTokens) row = reference.DecodeStep(cache, together[i].TokenIds[t]);
            }
        }
        output.WriteLine($"{fixture} on {device}: {requests.Length} prompts batched, largest logit difference from the float64 reference {worst:E2} of the row's largest |logit|");
    }

    [Theory, InlineData("odd-v510"), InlineData("tiny-v510G-identity")] // a learned-G and a custom-G model
    public void A_step_launches_each_kernel_once_whatever_its_rows(string fixture)
    {
        using var model = Load(fixture);
        using var slots = model.CreateSlots(16);
        var random = new Random(3);
        for (int s = 0; s < 16; s++) slots.Models[s].Prefill([.. Enumerable.Range(0, 1 + s).Select(_ => random.Next(4, 90))]);
        ((IPldrModel)model).Prefill([5, 6, 7]);

        long lone = Launches(() => ((IPldrModel)model).Decode(8));
        var logits = new float[16 * model.Info.Config.VocabSize];
        foreach (int rows in new[] { 1, 4, 16 })
        {
            int[] rowSlots = [.. Enumerable.Range(0, rows).Select(b => 15 - b)], tokens = [.. Enumerable.Repeat(9, rows)];
            Assert.Equal(lone, Launches(() => slots.Step(rowSlots, tokens, logits)));
        }
        // Embed and its LayerNorm, 9 per layer (QKV, RoPE, attention, dense, LN1, the GLU's three, LN2), the LM head.
        Assert.Equal(3 + 9 * model.Info.Config.NumHiddenLayers, lone);

        long Launches(Action step)
        {
            long before = model.LayerKernels.Launches;
            step();
            return model.LayerKernels.Launches - before;
        }
    }

    [Fact]
    public void Slots_state_their_device_memory_and_refuse_more_rows_than_the_scratch_holds()
    {
        using var model = Load("odd-v510");
        var c = model.Info.Config;
        using (var slots = model.CreateSlots(4))
        {
            long floats = 2L * c.NumHiddenLayers * c.MaxPositionEmbeddings * c.HiddenSize      // keys, values
                + 3L * c.NumHiddenLayers * c.NumAttentionHeads * c.HeadDim * c.HeadDim           // A, A_LM, G_LM
                + c.VocabSize;                                                                     // logits row
            Assert.Equal(4 * (floats + c.MaxPositionEmbeddings + 3), slots.BytesPerSlot);       // tokens and the step's row ints
        }
        var error = Assert.Throws<PldrException>(() => model.CreateSlots(c.MaxPositionEmbeddings + 1));
        Assert.Equal($"OddV510 on ILGPU: {c.MaxPositionEmbeddings + 1} slots; give 1 to {c.MaxPositionEmbeddings} (a step's rows live in the model's scratch, which holds max_position_embeddings rows)", error.Message);
    }
}
