using Microsoft.CodeAnalysis;

namespace PldrGen.Generator.Tests;

/// <summary>The generated code for a learned-G and a custom-G spec, against Baselines/ (see <see cref="Baselines"/>).</summary>
public class GoldenFileTests
{
    // Both specs in one run, so the registry baseline lists two models.
    static GeneratorRunResult Run(out Compilation output) => GeneratorHarness.Run(
        [InMemoryAdditionalText.FromSpecs("tiny-v510.pldr.yaml"), InMemoryAdditionalText.FromSpecs("tiny-v510G-identity.pldr.yaml")],
        out output);

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
