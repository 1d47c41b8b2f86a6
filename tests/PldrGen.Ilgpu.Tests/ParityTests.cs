using PldrGen.Runtime;
using PldrGen.Tests;
using PldrGen.Tests.Models;
using Xunit;

namespace PldrGen.Ilgpu.Tests;

/// <summary>
/// One lifecycle, two backends: the CPU model and the ILGPU model of the same spec, run free (each decodes its own
/// argmax) in every cache mode, report the same probe sequence and the same tokens, the fixture's, with logits
/// within the fixture bound of each other.
/// </summary>
[Collection(DeviceCollection.Name)]
public sealed class ParityTests(TestDevice device)
{
    const double LogitTolerance = 1e-4;  // the bound of the fixture tests (GeneratedModelTests)
    const double NoCacheTolerance = 1e-3;

    public static TheoryData<string, string> Cases => new()
    {
        { "tiny-v510", "greedy" }, { "tiny-v510", "nocache" }, { "tiny-v510", "kv-only" },
        { "tiny-v510G-identity", "greedy" }, { "tiny-v510G-identity", "nocache" },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Cpu_and_ilgpu_models_agree_probe_by_probe_and_token_by_token(string name, string mode)
    {
        using var reference = Fixtures.Reference(name);
        var info = CompiledModels.Info(name);
        var cpu = info.Load(Fixtures.ModelDir(name));
        using var ilgpu = (IlgpuModelBase)IlgpuModelCatalog.Find(info.TypeName)(Fixtures.ModelDir(name), device.Accelerator);
        // "kv-only" is the KV-cache with G recomputed from the frozen A every step; the fixture's tokens are greedy's.
        string fixture = mode == "kv-only" ? "greedy" : mode;
        var expected = reference.ReadInt32($"{fixture}.tokens");

        var cpuRun = Run(cpu, mode, reference.ReadInt32("prompt"), expected.Length);
        var ilgpuRun = Run(ilgpu, mode, reference.ReadInt32("prompt"), expected.Length);

        Assert.Equal(cpuRun.Probes, ilgpuRun.Probes);
        Assert.Contains("layer_out:1", cpuRun.Probes);
        Assert.Equal(info.Config.LearnedG, cpuRun.Probes.Contains("G_LM:0"));
        Compare.AssertTokens($"{name} {mode} CPU tokens", expected, cpuRun.Tokens);
        Compare.AssertTokens($"{name} {mode} ILGPU tokens", expected, ilgpuRun.Tokens);
        Compare.AssertClose($"{name} {mode} ILGPU logits against the CPU's", cpuRun.Logits, ilgpuRun.Logits,
            mode == "nocache" ? NoCacheTolerance : LogitTolerance, rowLength: info.Config.VocabSize, rowName: "step");
    }

    /// <summary>Greedy generation, free-running: the probe names (tensor:layer) in order, the tokens, every step's logits.</summary>
    static (List<string> Probes, int[] Tokens, float[] Logits) Run(IPldrModel model, string mode, int[] prompt, int steps)
    {
        model.UseKvCache = mode != "nocache";
        model.UseGCache = mode == "greedy";
        var probes = new List<string>();
        model.Probe = (tensor, layer, _) => probes.Add($"{tensor}:{layer}");
        int vocab = model.Info.Config.VocabSize;
        var tokens = new int[steps];
        var logits = new float[steps * vocab];
        var row = model.Prefill(prompt);
        for (int step = 0; step < steps; step++)
        {
            row.CopyTo(logits.AsSpan(step * vocab));
            tokens[step] = TeacherForced.ArgMax(row);
            if (step + 1 < steps) row = model.Decode(tokens[step]);
        }
        return (probes, tokens, logits);
    }
}
