using PldrGen.Runtime.Checkpoints;
using Xunit;

namespace PldrGen.Tests.Cli;

/// <summary>The pldr program, run as a process on each fixture model, reproduces the authors' token sequences.</summary>
public sealed class CliEndToEndTests
{
    // No-cache logits: two float32 computations of an amplifying recurrence (see GeneratedModelTests).
    const double LogitTolerance = 1e-4, NoCacheTolerance = 2e-3;

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public void Greedy_generation_with_a_dump_reproduces_greedy(string name) =>
        CheckRun(name, "greedy", LogitTolerance);

    [Theory]
    [InlineData("tiny-v510"), InlineData("tiny-v510G-external")]
    public void The_ilgpu_cpu_device_reproduces_greedy(string name) =>
        CheckRun(name, "greedy", LogitTolerance, "--device", "ilgpu-cpu");

    [Theory, MemberData(nameof(Fixtures.ModelsWith), "nocache.tokens", MemberType = typeof(Fixtures))]
    public void Generation_without_caches_reproduces_nocache(string name) =>
        CheckRun(name, "nocache", NoCacheTolerance, "--no-kv-cache", "--no-g-cache");

    [Theory, MemberData(nameof(Fixtures.ModelsWith), "external.tokens", MemberType = typeof(Fixtures))]
    public void A_g_cache_saved_by_pldr_gcache_reproduces_external(string name)
    {
        using var dir = new TempDirectory();
        using var reference = Fixtures.Reference(name);
        string gcache = dir.File("external.gcache");
        var saved = PldrProgram.WithTestSpecs.Run("gcache", "--model", Fixtures.ModelDir(name), "--tokens", Ids(reference.ReadInt32("external.prompt")), "--out", gcache);
        Assert.True(saved.ExitCode == 0, saved.Stderr);
        CheckRun(name, "external", LogitTolerance, "--g-cache", gcache);
    }

    static void CheckRun(string name, string kind, double tolerance, params string[] extra)
    {
        using var dir = new TempDirectory();
        using var reference = Fixtures.Reference(name);
        var expectedTokens = reference.ReadInt32($"{kind}.tokens");
        string dump = dir.File("dump.safetensors");
        var result = PldrProgram.WithTestSpecs.Run([
            "generate", "--model", Fixtures.ModelDir(name), "--tokens", Ids(reference.ReadInt32("prompt")),
            "--greedy", "--ignore-eos", "--max-new-tokens", expectedTokens.Length.ToString(), "--dump", dump, .. extra]);
        Assert.True(result.ExitCode == 0, result.Stderr);

        using var actual = SafeTensorsFile.Open(dump);
        Compare.AssertTokens($"{name} {kind}.tokens", expectedTokens, actual.ReadInt32("generated.tokens"));
        int vocab = reference.Entry("prefill.logits").Shape[1];
        Compare.AssertClose($"{name} {kind}.logits", reference.ReadFloat32($"{kind}.logits"), actual.ReadFloat32("generated.logits"), tolerance, rowLength: vocab);
        if (kind != "external") // with an injected G even the prefill differs from the model's own
            Compare.AssertClose($"{name} prefill.logits", reference.ReadFloat32("prefill.logits"), actual.ReadFloat32("prefill.logits"), LogitTolerance, rowLength: vocab, rowName: "position");
        Assert.Equal(reference.ReadInt32("prompt"), actual.ReadInt32("prompt"));
        Assert.True(actual.Contains("layer0.G_LM"));
    }

    static string Ids(int[] ids) => string.Join(",", ids);
}
