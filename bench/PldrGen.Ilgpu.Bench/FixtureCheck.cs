using PldrGen.Ilgpu;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Ilgpu.Bench;

/// <summary>
/// The fixture models on a device in every cache mode, with the tolerances of tests/PldrGen.Ilgpu.Tests (which
/// run the same checks under xunit where the .NET SDK is installed: PLDRGEN_TEST_DEVICE=cuda dotnet test).
/// Ends with the line "N passed, N failed".
/// </summary>
static class FixtureCheck
{
    const double LogitTolerance = 1e-4, NoCacheTolerance = 1e-3;

    static readonly (string Name, PldrModelInfo Info)[] Models =
    [
        ("tiny-v510", TinyV510.ModelInfo), ("odd-v510", OddV510.ModelInfo), ("tiny-v510G-identity", TinyV510GIdentity.ModelInfo),
        ("tiny-v510G-external", TinyV510GExternal.ModelInfo), ("tiny-v510-bf16", TinyV510Bf16.ModelInfo), ("pldr-tiny-pydoc", PldrTinyPydoc.ModelInfo),
    ];

    public static int Run(string deviceName)
    {
        using var device = IlgpuDevices.Open(deviceName);
        Console.WriteLine($"fixtures on {device}");
        int passed = 0, failed = 0;
        foreach (var (name, info) in Models)
        {
            string dir = ModelDir(name);
            using var reference = SafeTensorsFile.Open(Path.Combine(dir, "reference.safetensors"));
            var prompt = reference.ReadInt32("prompt");
            int vocab = info.Config.VocabSize;
            Check(name, "prefill logits", () =>
            {
                using var model = Load();
                var logits = new float[prompt.Length * vocab];
                ((IPldrModel)model).Prefill(prompt, logits);
                return MaxAbs(reference.ReadFloat32("prefill.logits"), logits, LogitTolerance);
            });
            Check(name, "G_LM after prefill", () =>
            {
                using var model = Load();
                ((IPldrModel)model).Prefill(prompt);
                var g = ((IPldrModel)model).CaptureGCache();
                double worst = 0;
                for (int l = 0; l < g.Layers; l++)
                    worst = Math.Max(worst, MaxAbs(reference.ReadFloat32($"layer{l}.G_LM"), g.LayerG(l).ToArray(), 1e-4, relTol: 1e-4));
                return worst;
            });
            Check(name, "greedy, KV- and G-cache", () => { using var m = Load(); return Greedy(m, "greedy", prompt, LogitTolerance); });
            Check(name, "greedy, KV-cache without G-cache", () => { using var m = Load(); m.UseGCache = false; return Greedy(m, "greedy", prompt, LogitTolerance); });
            if (reference.Contains("nocache.tokens"))
                Check(name, "greedy without caches", () => { using var m = Load(); m.UseKvCache = m.UseGCache = false; return Greedy(m, "nocache", prompt, NoCacheTolerance); });
            if (reference.Contains("external.tokens"))
                Check(name, "greedy with another prompt's G", () =>
                {
                    GCache g;
                    using (var donor = Load())
                    {
                        ((IPldrModel)donor).Prefill(reference.ReadInt32("external.prompt"));
                        g = ((IPldrModel)donor).CaptureGCache();
                    }
                    using var m = Load();
                    ((IPldrModel)m).InjectGCache(g);
                    return Greedy(m, "external", prompt, LogitTolerance);
                });

            IlgpuModelBase Load() => (IlgpuModelBase)IlgpuModelCatalog.Find(info.TypeName)(dir, device.Accelerator);

            double Greedy(IlgpuModelBase loaded, string kind, int[] prompt, double tolerance)
            {
                var model = (IPldrModel)loaded;
                var expectedTokens = reference.ReadInt32($"{kind}.tokens");
                var expectedLogits = reference.ReadFloat32($"{kind}.logits");
                var row = model.Prefill(prompt);
                double worst = 0;
                for (int step = 0; step < expectedTokens.Length; step++)
                {
                    int token = ArgMax(row);
                    if (token != expectedTokens[step]) throw new InvalidOperationException($"step {step}: token {token}, the fixture has {expectedTokens[step]}");
                    worst = Math.Max(worst, MaxAbs(expectedLogits.AsSpan(step * vocab, vocab).ToArray(), row.ToArray(), tolerance));
                    if (step + 1 < expectedTokens.Length) row = model.Decode(expectedTokens[step]);
                }
                return worst;
            }
        }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;

        void Check(string model, string what, Func<double> run)
        {
            try
            {
                double error = run();
                Console.WriteLine($"  PASS {model,-20} {what,-34} max abs error {error:E2}");
                passed++;
            }
            catch (Exception e) when (e is InvalidOperationException or PldrException)
            {
                Console.WriteLine($"  FAIL {model,-20} {what,-34} {e.Message}");
                failed++;
            }
        }
    }

    /// <summary>
    /// The fixtures copied beside a build, or, with PLDRGEN_REPO set (the published single file ships none, to stay
    /// small enough to carry), the repository's own tests/fixtures/models and models/.
    /// </summary>
    static string ModelDir(string name) => Environment.GetEnvironmentVariable("PLDRGEN_REPO") is { Length: > 0 } repo
        ? name == "pldr-tiny-pydoc" ? Path.Combine(repo, "models", name) : Path.Combine(repo, "tests", "fixtures", "models", name)
        : name == "pldr-tiny-pydoc" ? Path.Combine(AppContext.BaseDirectory, "fixtures", name) : Path.Combine(AppContext.BaseDirectory, "fixtures", "models", name);

    /// <summary>The largest |actual − expected|; throws when an element is outside absTol + relTol·|expected|.</summary>
    static double MaxAbs(float[] expected, float[] actual, double absTol, double relTol = 0)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            if (!(error <= absTol + relTol * Math.Abs(expected[i])))
                throw new InvalidOperationException($"index {i}: expected {expected[i]:R}, actual {actual[i]:R} (tolerance {absTol:E1} + {relTol:E1}·|expected|)");
            worst = Math.Max(worst, error);
        }
        return worst;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
