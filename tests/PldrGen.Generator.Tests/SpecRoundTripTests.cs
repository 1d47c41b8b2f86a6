using Microsoft.CodeAnalysis;
using static PldrGen.Generator.Tests.GeneratorHarness;

namespace PldrGen.Generator.Tests;

/// <summary>Every spec the repository ships generates cleanly, alone and all together.</summary>
public class SpecRoundTripTests
{
    static readonly string[] SpecFiles =
        [.. Directory.GetFiles(SpecsDirectory, "*" + PldrGenerator.SpecSuffix).Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Specs => new(SpecFiles);

    [Theory]
    [MemberData(nameof(Specs))]
    public void SpecGeneratesWithoutDiagnostics(string fileName)
    {
        var result = Run(InMemoryAdditionalText.FromSpecs(fileName));
        Assert.Empty(result.Diagnostics);
        Assert.Equal(2, result.GeneratedSources.Length); // the model and the registry
    }

    [Fact]
    public void AllSpecsTogetherCompileAgainstTheRuntime()
    {
        var specs = SpecFiles.Select(AdditionalText (name) => InMemoryAdditionalText.FromSpecs(name)).ToArray();
        var result = Run(specs, out var output);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(specs.Length + 1, result.GeneratedSources.Length);
        AssertCompiles(output);
    }
}
