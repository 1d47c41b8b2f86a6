using Microsoft.CodeAnalysis;
using static PldrGen.Generator.Tests.GeneratorHarness;

namespace PldrGen.Generator.Tests;

/// <summary>Every spec of the repository (shipped and test fixtures) generates cleanly, alone and all together.</summary>
public class SpecRoundTripTests
{
    static readonly string[] SpecFiles =
        [.. SpecDirectories.SelectMany(d => Directory.GetFiles(d, "*" + PldrGenerator.SpecSuffix)).Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)];

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

/// <summary><c>pldr spec --from-config</c> writes a spec that compiles to a model of the checkpoint's exact shape.</summary>
public class SpecFromConfigTests
{
    public static TheoryData<string> Configs => new(
        Directory.GetFiles(Path.Combine(RepoRoot, "tests", "fixtures", "models"), "config.json", SearchOption.AllDirectories)
            .Append(Path.Combine(RepoRoot, "models", "pldr-tiny-pydoc", "config.json"))
            .Select(Path.GetFullPath).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Configs))]
    public void A_spec_written_from_a_config_compiles_to_that_shape(string configPath)
    {
        var config = PldrGen.Runtime.Checkpoints.PldrConfig.Load(configPath);
        string className = PldrGen.Runtime.Checkpoints.SpecWriter.ClassNameFor(Path.GetFileName(Path.GetDirectoryName(configPath)!));
        string yaml = PldrGen.Runtime.Checkpoints.SpecWriter.FromConfig(config, className, "Written.Models", configPath);
        var result = Run([new InMemoryAdditionalText(SpecPath(className + ".pldr.yaml"), yaml)], out var output);
        Assert.Empty(result.Diagnostics);
        AssertCompiles(output);
        // The generated Config is the checkpoint's config, field by field.
        string model = GeneratedText(result, $"Written.Models.{className}.g.cs");
        Assert.Contains($"public const int VocabSize = {config.VocabSize};", model);
        Assert.Contains($"public const int IntermediateSize = {config.IntermediateSize};", model);
        Assert.Contains($"public const int MetricHidden = {config.ADff};", model);
    }
}
