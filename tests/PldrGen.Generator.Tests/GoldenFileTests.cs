using Microsoft.CodeAnalysis;

namespace PldrGen.Generator.Tests;

/// <summary>
/// The generated code for a learned-G and a custom-G spec, against Baselines/ (see <see cref="Baselines"/>): the CPU
/// models and the registry, compiled against the runtime, and the ILGPU models, generated over stubs of the two
/// types that switch that branch on.
/// </summary>
public class GoldenFileTests
{
    // Both specs in one run, so the registry baseline lists two models.
    static GeneratorRunResult Run(out Compilation output, bool withIlgpu = false) => GeneratorHarness.Run(
        [InMemoryAdditionalText.FromSpecs("tiny-v510.pldr.yaml"), InMemoryAdditionalText.FromSpecs("tiny-v510G-identity.pldr.yaml")],
        out output, withIlgpu);

    static readonly string[] IlgpuHintNames = ["PldrGen.Models.TinyV510Ilgpu.g.cs", "PldrGen.Models.TinyV510GIdentityIlgpu.g.cs"];

    public static TheoryData<string> IlgpuFiles => new(IlgpuHintNames);

    [Theory]
    [MemberData(nameof(IlgpuFiles))]
    public void IlgpuFileMatchesBaseline(string hintName) =>
        Baselines.AssertMatches(hintName, GeneratorHarness.GeneratedText(Run(out _, withIlgpu: true), hintName));

    [Fact]
    public void TheIlgpuBranchAddsOneFilePerSpec()
    {
        var result = Run(out _, withIlgpu: true);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(HintNames.Concat(IlgpuHintNames).Order(StringComparer.Ordinal),
            result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
    }

    static readonly string[] HintNames = ["PldrGen.Models.TinyV510.g.cs", "PldrGen.Models.TinyV510GIdentity.g.cs", "PldrGenModels.g.cs"];

    public static TheoryData<string> GeneratedFiles => new(HintNames);

    [Theory]
    [MemberData(nameof(GeneratedFiles))]
    public void GeneratedFileMatchesBaseline(string hintName) =>
        Baselines.AssertMatches(hintName, GeneratorHarness.GeneratedText(Run(out _), hintName));

    [Fact]
    public void GeneratesOneFilePerSpecAndTheRegistry()
    {
        var result = Run(out _);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(HintNames.Order(StringComparer.Ordinal),
            result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void GeneratedCodeCompilesAgainstTheRuntime()
    {
        Run(out var output);
        GeneratorHarness.AssertCompiles(output);
    }
}
