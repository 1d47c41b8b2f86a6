using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace PldrGen.Generator.Tests;

/// <summary>A spec file that exists only in memory. A null text stands for a file the compiler could not read.</summary>
sealed class InMemoryAdditionalText(string path, string? text) : AdditionalText
{
    readonly SourceText? _text = text is null ? null : SourceText.From(text, Encoding.UTF8);

    public override string Path { get; } = path;

    public override SourceText? GetText(CancellationToken cancellationToken = default) => _text;

    /// <summary>A spec from the repository's specs/ or tests/specs/ folder, under a machine-independent path.</summary>
    public static InMemoryAdditionalText FromSpecs(string fileName) =>
        new(GeneratorHarness.SpecPath(fileName), File.ReadAllText(GeneratorHarness.SpecDirectories.Select(d => System.IO.Path.Combine(d, fileName)).First(File.Exists)));
}
