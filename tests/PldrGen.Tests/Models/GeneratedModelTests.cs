using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace PldrGen.Tests.Models;

/// <summary>
/// The generated float32 CPU models against the authors' float32 fixtures (reference.safetensors) and against the
/// float64 reference forward pass, in every cache mode.
/// </summary>
public sealed class GeneratedModelTests(ITestOutputHelper output)
{
    // The issue's bound for float32 logits against the float32 fixtures (the README's noise floor is ~1e-5).
    const double LogitTolerance = 1e-4;

    static IPldrModel Load(string name) => CompiledModels.Load(name);

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Prefill_logits_match_the_fixture_and_the_float64_reference(string name)
    {
        using var reference = Fixtures.Reference(name);
        using var reference64 = Fixtures.Reference64(name);
        var model = Load(name);
        var prompt = reference.ReadInt32("prompt");
        var logits = new float[prompt.Length * model.Info.Config.VocabSize];
        model.Prefill(prompt, logits);

        var vsFixture = Compare.AssertClose($"{name} prefill.logits", reference.ReadFloat32("prefill.logits"), logits, LogitTolerance, rowLength: model.Info.Config.VocabSize, rowName: "position");
        var vsExact = Compare.AssertClose($"{name} prefill.logits vs float64", reference64.ReadFloat64("prefill.logits"), Widen(logits), LogitTolerance, rowLength: model.Info.Config.VocabSize, rowName: "position");
        output.WriteLine($"{name} prefill logits: vs float32 fixture {vsFixture}; vs float64 {vsExact}");
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Deductive_outputs_after_prefill_match(string name)
    {
        using var reference = Fixtures.Reference(name);
        using var reference64 = Fixtures.Reference64(name);
        var model = Load(name);
        model.Prefill(reference.ReadInt32("prompt"));
        var g = model.CaptureGCache();
        bool learned = model.Info.Config.LearnedG;
        for (int l = 0; l < g.Layers; l++)
        {
            if (learned)
            {
                Check($"layer{l}.A", g.LayerA(l), 1e-4);
                Check($"layer{l}.A_LM", g.LayerALm(l), 1e-4);
            }
            // G_LM = a·A_LM^pw: the power amplifies the float32 rounding of A wherever A_LM is tiny. The authors'
            // code drifts 7e-5 between two BLAS builds; float32 paths land within 2e-4 of the fixture (measured
            // up to 1.5e-4, odd-v510 layer 2), while the float64 reference matches it to 1e-12.
            Check($"layer{l}.G_LM", g.LayerG(l), 2e-4);
        }

        void Check(string tensor, Span<float> actual, double tolerance)
        {
            var expected = reference.ReadFloat32(tensor);
            var exact = reference64.ReadFloat64(tensor);
            output.WriteLine($"{name} {tensor}: vs float32 {Compare.Measure(expected, actual.ToArray())}; vs float64 {Compare.Measure(exact, Widen(actual.ToArray()))}; fixture vs float64 {Compare.Measure(expected, exact)}");
            Compare.AssertClose($"{name} {tensor}", expected, actual.ToArray(), tolerance, relTol: tolerance);
        }
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Greedy_with_kv_and_g_cache_matches(string name)
    {
        using var reference = Fixtures.Reference(name);
        var model = Load(name);
        CheckGreedy(name, model, reference, reference.ReadInt32("prompt"), "greedy", LogitTolerance);
    }

    [Theory, MemberData(nameof(Fixtures.ModelsWith), "nocache.tokens", MemberType = typeof(Fixtures))]
    public void Greedy_without_any_cache_matches(string name)
    {
        using var reference = Fixtures.Reference(name);
        var model = Load(name);
        model.UseKvCache = false;
        model.UseGCache = false;
        // A and G are recomputed from the growing sequence, and the element-wise power amplifies float32 rounding:
        // the authors' own code differs from itself by 6.3e-4 between two BLAS builds, and its float32 fixture sits
        // 9.0e-4 from the exact math (odd-v510). 1e-4 is below that noise, so no-cache logits are held to 1e-3 from
        // the exact math (reference64) and, as two float32 computations, to 2e-3 from each other.
        using var reference64 = Fixtures.Reference64(name);
        var logits = CheckGreedy(name, model, reference, reference.ReadInt32("prompt"), "nocache", 2 * NoCacheTolerance);
        var errors = Compare.AssertClose($"{name} nocache.logits vs float64", reference64.ReadFloat64("nocache.logits"), Widen(logits), NoCacheTolerance, rowLength: model.Info.Config.VocabSize);
        output.WriteLine($"{name} nocache vs float64: {errors}");
    }

    [Theory, MemberData(nameof(Fixtures.ModelsWith), "external.tokens", MemberType = typeof(Fixtures))]
    public void Greedy_with_another_prompts_g_cache_matches(string name)
    {
        using var reference = Fixtures.Reference(name);
        var donor = Load(name);
        donor.Prefill(reference.ReadInt32("external.prompt"));
        var g = donor.CaptureGCache();
        for (int l = 0; l < g.Layers; l++)
            Compare.AssertClose($"{name} external.layer{l}.G_LM", reference.ReadFloat32($"external.layer{l}.G_LM"), g.LayerG(l).ToArray(), 1e-4, 1e-4);

        var model = Load(name);
        model.InjectGCache(g);
        CheckGreedy(name, model, reference, reference.ReadInt32("prompt"), "external", LogitTolerance);
    }

    [Theory, MemberData(nameof(Fixtures.ModelsWith), "external.tokens", MemberType = typeof(Fixtures))]
    public void A_saved_g_cache_file_drives_decoding_like_the_live_one(string name)
    {
        using var reference = Fixtures.Reference(name);
        var donor = Load(name);
        donor.Prefill(reference.ReadInt32("external.prompt"));
        string path = Path.Combine(Path.GetTempPath(), $"pldrgen-{Guid.NewGuid():N}.gcache.safetensors");
        try
        {
            donor.CaptureGCache().Save(path);
            var model = Load(name);
            model.InjectGCache(GCache.Load(path));
            CheckGreedy(name, model, reference, reference.ReadInt32("prompt"), "external", LogitTolerance);
        }
        finally { File.Delete(path); }
    }

    [Theory, MemberData(nameof(Fixtures.ModelsWith), "external.tokens", MemberType = typeof(Fixtures))]
    public void Clearing_an_injected_g_cache_returns_to_the_models_own_g(string name)
    {
        using var reference = Fixtures.Reference(name);
        var donor = Load(name);
        donor.Prefill(reference.ReadInt32("external.prompt"));
        var model = Load(name);
        model.InjectGCache(donor.CaptureGCache());
        model.ClearInjectedGCache();
        CheckGreedy(name, model, reference, reference.ReadInt32("prompt"), "greedy", LogitTolerance);
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Kv_cache_without_g_cache_recomputes_the_same_g(string name)
    {
        using var reference = Fixtures.Reference(name);
        var model = Load(name);
        model.UseGCache = false;
        CheckGreedy(name, model, reference, reference.ReadInt32("prompt"), "greedy", LogitTolerance);
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void The_float32_model_tracks_the_float64_reference_step_by_step(string name)
    {
        using var reference = Fixtures.Reference(name);
        var prompt = reference.ReadInt32("prompt");
        var exact = ReferenceModel.Load(Fixtures.ModelDir(name));
        var (_, cache) = exact.Prefill(prompt);
        var model = Load(name);
        var logits = model.Prefill(prompt).ToArray();
        int token = ReferenceModel.ArgMax(Widen(logits));
        double worst = 0;
        for (int step = 0; step < 8 && model.Position < model.Info.Config.MaxPositionEmbeddings; step++)
        {
            var expected = exact.DecodeStep(cache, token);
            logits = model.Decode(token).ToArray();
            // Against the exact math a float32 path may sit as far as the authors' own float32 file does (8.9e-5 on
            // the trained pydoc model, README of the fixtures): twice that is the bound here; measured ≤ 9.1e-5.
            worst = Math.Max(worst, Compare.AssertClose($"{name} decode step {step} vs float64", expected, Widen(logits), 2 * LogitTolerance).MaxAbs);
            token = ReferenceModel.ArgMax(expected);
        }
        output.WriteLine($"{name}: cached decode vs float64, max abs {worst:E2}");
    }

    [Fact]
    public void Decode_steps_allocate_nothing()
    {
        var model = Load("pldr-tiny-pydoc");
        model.Prefill([279, 551, 320]);
        model.Decode(42);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 16; i++) model.Decode(100 + i);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    // The shared workers under load from a second model: a thread's first wait that blocks must not land inside the
    // measured steps (it allocated 0.7–2 KB when the caller blocked on a contended lock or a countdown event). Up to
    // three tries of 64 steps: an allocation of the steps shows in every try, while a rare one-time ~2 KB under the
    // whole suite's contention (one clean-clone run in four, cause not found; never with the test alone, even beside
    // CPU hogs) shows in one at most.
    [Fact]
    public void Decode_steps_allocate_nothing_while_another_model_runs()
    {
        using var stop = new CancellationTokenSource();
        var other = new Thread(() =>
        {
            var busy = Load("pldr-tiny-pydoc");
            while (!stop.IsCancellationRequested)
            {
                busy.Prefill([279, 551, 320]);
                for (int i = 0; i < 8; i++) busy.Decode(7 + i);
            }
        });
        var allocated = new List<long>(3);
        var measured = new Thread(() =>
        {
            var model = Load("pldr-tiny-pydoc");
            model.Prefill([279, 551, 320]);
            model.Decode(42);
            for (int attempt = 0; attempt < 3; attempt++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 64; i++) model.Decode(100 + i);
                allocated.Add(GC.GetAllocatedBytesForCurrentThread() - before);
                if (allocated[^1] == 0) break;
            }
        });
        other.Start();
        measured.Start();
        measured.Join();
        stop.Cancel();
        other.Join();
        Assert.True(allocated.Count > 0 && allocated[^1] == 0, $"every try of 64 decode steps allocated: {string.Join(", ", allocated)} bytes");
    }

    float[] CheckGreedy(string name, IPldrModel model, SafeTensorsFile reference, int[] prompt, string kind, double tolerance)
    {
        var (logits, errors) = TeacherForced.Check(name, model, reference, prompt, kind, tolerance);
        output.WriteLine($"{name} {kind}: tokens exact, logits {errors}");
        return logits;
    }

    const double NoCacheTolerance = 1e-3;

    static double[] Widen(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }
}
