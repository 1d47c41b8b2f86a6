using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace PldrGen.Generator.Tests;

/// <summary>
/// Generated names against the user's: every identifier the CPU output contains, tried as a class name and as a
/// namespace segment, is either refused with a PLDR diagnostic or generates code that compiles.
/// </summary>
public class CollisionTests
{
    /// <summary>Every identifier of the generated learned-G and custom-G models and the registry that can name a type.</summary>
    static List<string> GeneratedIdentifiers()
    {
        var result = GeneratorHarness.Run(InMemoryAdditionalText.FromSpecs("tiny-v510.pldr.yaml"), InMemoryAdditionalText.FromSpecs("tiny-v510G-identity.pldr.yaml"));
        return result.GeneratedSources
            .SelectMany(s => CSharpSyntaxTree.ParseText(s.SourceText).GetRoot().DescendantTokens())
            .Where(t => t.IsKind(SyntaxKind.IdentifierToken) && SyntaxFacts.GetContextualKeywordKind(t.ValueText) == SyntaxKind.None)
            .Select(t => t.ValueText).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public void Every_generated_identifier_as_a_class_name_is_refused_or_compiles()
    {
        var names = GeneratedIdentifiers();
        // Each candidate in its own namespace, so one that breaks its own model cannot break another's.
        var specs = names.Select((name, i) => (AdditionalText)new InMemoryAdditionalText(GeneratorHarness.SpecPath($"class{i}.pldr.yaml"),
            $"class_name: {name}\nnamespace: Probe{i}\n{SmallSpecs.LearnedGShape}")).ToArray();
        var result = GeneratorHarness.Run(specs, out var output);

        var refused = result.Diagnostics.Where(d => d.Id == "PLDR0017").Select(d => names[SpecIndex(d)]).ToHashSet();
        Assert.Contains("Load", refused);
        Assert.Contains("CpuKernels", refused);
        Assert.DoesNotContain("TinyV510", refused);
        AssertNoErrors(output);
    }

    [Fact]
    public void Every_generated_identifier_as_a_namespace_segment_is_refused_or_compiles()
    {
        var names = GeneratedIdentifiers();
        var specs = names.Select((name, i) => (AdditionalText)new InMemoryAdditionalText(GeneratorHarness.SpecPath($"namespace{i}.pldr.yaml"),
            $"class_name: Model\nnamespace: Probe{i}.{name}\n{SmallSpecs.LearnedGShape}")).ToArray();
        var result = GeneratorHarness.Run(specs, out var output);

        var refused = result.Diagnostics.Where(d => d.Id == "PLDR0018").Select(d => names[SpecIndex(d)]).ToHashSet();
        Assert.Contains("Span", refused);
        Assert.DoesNotContain("Model", refused);
        AssertNoErrors(output);
    }

    static int SpecIndex(Diagnostic d)
    {
        string file = Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(d.Location.GetLineSpan().Path));
        return int.Parse(file.TrimStart("abcdefghijklmnopqrstuvwxyz".ToCharArray()), System.Globalization.CultureInfo.InvariantCulture);
    }

    static void AssertNoErrors(Compilation output)
    {
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(20)));
    }
}
