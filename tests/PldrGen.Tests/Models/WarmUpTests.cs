using PldrGen.Runtime;
using Xunit;

namespace PldrGen.Tests.Models;

/// <summary>The warm-up pass at load leaves nothing behind: a warmed model computes the same bits as a fresh one.</summary>
public sealed class WarmUpTests
{
    const int Steps = 6;

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void A_warmed_model_gives_the_bits_of_a_fresh_one(string name)
    {
        using var reference = Fixtures.Reference(name);
        var prompt = reference.ReadInt32("prompt");
        var warmed = CompiledModels.Load(name);
        warmed.WarmUp();
        Assert.Equal(0, warmed.Position);
        Assert.Equal(Greedy(CompiledModels.Load(name), prompt), Greedy(warmed, prompt));
    }

    [Theory, MemberData(nameof(Fixtures.ModelsWith), "external.tokens", MemberType = typeof(Fixtures))]
    public void An_injected_g_cache_survives_the_warm_up(string name)
    {
        using var reference = Fixtures.Reference(name);
        var donor = CompiledModels.Load(name);
        donor.Prefill(reference.ReadInt32("external.prompt"));
        var g = donor.CaptureGCache();
        var prompt = reference.ReadInt32("prompt");

        var fresh = CompiledModels.Load(name);
        fresh.InjectGCache(g);
        var warmed = CompiledModels.Load(name);
        warmed.InjectGCache(g);
        warmed.WarmUp();
        Assert.Equal(Greedy(fresh, prompt), Greedy(warmed, prompt));
    }

    [Fact]
    public void The_probe_sees_nothing_of_the_warm_up_and_stays_set()
    {
        var model = CompiledModels.Load("tiny-v510");
        int calls = 0;
        TensorProbe probe = (_, _, _) => calls++;
        model.Probe = probe;
        model.WarmUp();
        Assert.Equal(0, calls);
        Assert.Same(probe, model.Probe);
        model.Prefill([1, 2, 3]);
        Assert.True(calls > 0);
    }

    /// <summary>The prompt's last logits and a few greedy steps' logits, as bits.</summary>
    static List<int[]> Greedy(IPldrModel model, int[] prompt)
    {
        var bits = new List<int[]>();
        var logits = model.Prefill(prompt);
        for (int step = 0; ; step++)
        {
            bits.Add(Bits(logits));
            if (step == Steps || model.Position == model.Info.Config.MaxPositionEmbeddings) return bits;
            logits = model.Decode(System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits));
        }
    }

    static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int i = 0; i < values.Length; i++) bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        return bits;
    }
}
