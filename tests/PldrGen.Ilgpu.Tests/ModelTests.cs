using PldrGen.Tests.Models;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Tests;
using Xunit;
using Xunit.Abstractions;

namespace PldrGen.Ilgpu.Tests;

/// <summary>
/// The generated ILGPU models against the authors' float32 fixtures in every cache mode, with the tolerances of
/// the CPU model's tests (tests/PldrGen.Tests/Models/GeneratedModelTests.cs).
/// </summary>
[Collection(DeviceCollection.Name)]
public sealed class ModelTests(TestDevice device, ITestOutputHelper output)
{
    const double LogitTolerance = 1e-4;
    const double NoCacheTolerance = 1e-3; // see GeneratedModelTests: the fixture's own noise without caches is ~1e-3

    public static TheoryData<string> Models => new(Fixtures.ModelNames);

    /// <summary>The fixture models whose reference holds <paramref name="tensor"/>.</summary>
    public static TheoryData<string> ModelsWith(string tensor) => Fixtures.ModelsWith(tensor);

    /// <summary>Loads through the catalog that the generated module initializers fill, as the command line will.</summary>
    IlgpuModelBase Load(string name) =>
        (IlgpuModelBase)IlgpuModelCatalog.Find(Info(name).TypeName)(Fixtures.ModelDir(name), device.Accelerator);

    static PldrModelInfo Info(string fixture) => CompiledModels.Info(fixture);

    [Theory, MemberData(nameof(Models))]
    public void Prefill_logits_match_the_fixture(string name)
    {
        using var reference = Fixtures.Reference(name);
        using var loaded = Load(name);
        var model = (IPldrModel)loaded;
        var prompt = reference.ReadInt32("prompt");
        var logits = new float[prompt.Length * model.Info.Config.VocabSize];
        model.Prefill(prompt, logits);
        var errors = Compare.AssertClose($"{name} prefill.logits", reference.ReadFloat32("prefill.logits"), logits, LogitTolerance,
            rowLength: model.Info.Config.VocabSize, rowName: "position");
        output.WriteLine($"{name} prefill logits on {device}: {errors}");
        // The last row alone (what generation asks for) is the same computation.
        var last = model.Prefill(prompt).ToArray();
        Compare.AssertClose($"{name} last prefill row", logits.AsSpan(logits.Length - last.Length).ToArray(), last, 1e-6);
    }

    [Theory, MemberData(nameof(Models))]
    public void Deductive_outputs_after_prefill_match(string name)
    {
        using var reference = Fixtures.Reference(name);
        using var loaded = Load(name);
        var model = (IPldrModel)loaded;
        model.Prefill(reference.ReadInt32("prompt"));
        var g = model.CaptureGCache();
        for (int l = 0; l < g.Layers; l++)
        {
            if (model.Info.Config.LearnedG)
            {
                Check($"layer{l}.A", g.LayerA(l));
                Check($"layer{l}.A_LM", g.LayerALm(l));
            }
            Check($"layer{l}.G_LM", g.LayerG(l));
        }

        void Check(string tensor, Span<float> actual)
        {
            var errors = Compare.AssertClose($"{name} {tensor}", reference.ReadFloat32(tensor), actual.ToArray(), 1e-4, relTol: 1e-4);
            output.WriteLine($"{name} {tensor}: {errors}");
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void Greedy_with_kv_and_g_cache_matches(string name)
    {
        using var reference = Fixtures.Reference(name);
        using var model = Load(name);
        CheckGreedy(name, (IPldrModel)model, reference, reference.ReadInt32("prompt"), "greedy", LogitTolerance);
    }

    [Theory, MemberData(nameof(ModelsWith), "nocache.tokens")]
    public void Greedy_without_any_cache_matches(string name)
    {
        using var reference = Fixtures.Reference(name);
        using var model = Load(name);
        model.UseKvCache = false;
        model.UseGCache = false;
        CheckGreedy(name, (IPldrModel)model, reference, reference.ReadInt32("prompt"), "nocache", NoCacheTolerance);
    }

    [Theory, MemberData(nameof(ModelsWith), "external.tokens")]
    public void Greedy_with_another_prompts_g_cache_matches(string name)
    {
        using var reference = Fixtures.Reference(name);
        GCache g;
        using (var donor = Load(name))
        {
            ((IPldrModel)donor).Prefill(reference.ReadInt32("external.prompt"));
            g = ((IPldrModel)donor).CaptureGCache();
        }
        for (int l = 0; l < g.Layers; l++)
            Compare.AssertClose($"{name} external.layer{l}.G_LM", reference.ReadFloat32($"external.layer{l}.G_LM"), g.LayerG(l).ToArray(), 1e-4, 1e-4);

        using var model = Load(name);
        ((IPldrModel)model).InjectGCache(g);
        CheckGreedy(name, (IPldrModel)model, reference, reference.ReadInt32("prompt"), "external", LogitTolerance);
    }

    [Theory, MemberData(nameof(ModelsWith), "external.tokens")]
    public void Clearing_an_injected_g_cache_computes_g_again(string name)
    {
        using var reference = Fixtures.Reference(name);
        using var loaded = Load(name);
        var model = (IPldrModel)loaded;
        var g = new GCache(model.Info.Config.NumHiddenLayers, model.Info.Config.NumAttentionHeads, model.Info.Config.HeadDim);
        model.InjectGCache(g); // all-zero G: attention is uniform
        model.ClearInjectedGCache();
        CheckGreedy(name, model, reference, reference.ReadInt32("prompt"), "greedy", LogitTolerance);
    }

    [Theory, MemberData(nameof(Models))]
    public void Kv_cache_without_g_cache_recomputes_the_same_g(string name)
    {
        using var reference = Fixtures.Reference(name);
        using var model = Load(name);
        model.UseGCache = false;
        CheckGreedy(name, (IPldrModel)model, reference, reference.ReadInt32("prompt"), "greedy", LogitTolerance);
    }

    [Fact]
    public void The_device_model_tracks_the_cpu_model_step_by_step()
    {
        // Free-running (no teacher forcing) against the CPU model: same tokens, logits within float noise.
        const string name = "odd-v510";
        using var reference = Fixtures.Reference(name);
        var prompt = reference.ReadInt32("prompt");
        var cpu = OddV510.Load(Fixtures.ModelDir(name));
        using var gpu = OddV510Ilgpu.Load(Fixtures.ModelDir(name), device.Accelerator);
        var expected = cpu.Prefill(prompt).ToArray();
        var actual = gpu.Prefill(prompt).ToArray();
        for (int step = 0; gpu.Position < OddV510.MaxPositions; step++)
        {
            Compare.AssertClose($"{name} step {step}", expected, actual, LogitTolerance);
            int token = TeacherForced.ArgMax(expected);
            Assert.Equal(token, TeacherForced.ArgMax(actual));
            expected = cpu.Decode(token).ToArray();
            actual = gpu.Decode(token).ToArray();
        }
        var error = Assert.Throws<PldrException>(() => gpu.Decode(1));
        Assert.Contains("past the context of OddV510", error.Message);
    }

    [Fact]
    public void A_probe_sees_the_named_intermediates()
    {
        using var model = TinyV510Ilgpu.Load(Fixtures.ModelDir("tiny-v510"), device.Accelerator);
        var seen = new List<string>();
        model.Probe = (tensor, layer, values) => seen.Add($"{tensor}:{layer}:{values.Length}");
        model.Prefill([5, 6, 7]);
        Assert.Contains("embed:-1:192", seen);
        Assert.Contains("A:1:1024", seen);
        Assert.Contains("G_LM:0:1024", seen);
        Assert.Contains("layer_out:1:192", seen);
    }

    float[] CheckGreedy(string name, IPldrModel model, SafeTensorsFile reference, int[] prompt, string kind, double tolerance)
    {
        var (logits, errors) = TeacherForced.Check(name, model, reference, prompt, kind, tolerance);
        output.WriteLine($"{name} {kind} on {device}: tokens exact, logits {errors}");
        return logits;
    }

}
