using System.Collections.Immutable;
using System.Reflection;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace PldrGen.Generator.Tests;

/// <summary>Runs <see cref="PldrGenerator"/> the way the compiler does, over in-memory spec files.</summary>
static class GeneratorHarness
{
    // C# 13, not the SDK's 14: generated code must also compile for a consumer that pins an older LangVersion.
    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.CSharp13);

    public static readonly string RepoRoot = Metadata("RepoRoot");
    /// <summary>The shipped specs and the test fixtures' specs.</summary>
    public static readonly string[] SpecDirectories = [Path.Combine(RepoRoot, "specs"), Path.Combine(RepoRoot, "tests", "specs")];
    public static readonly string BaselinesDirectory = Path.Combine(Metadata("ProjectDirectory"), "Baselines");

    /// <summary>Spec paths as the generator sees them: fixed, so diagnostics and output do not depend on the machine.</summary>
    public static string SpecPath(string fileName) => "/project/specs/" + fileName;

    /// <summary>The framework and the runtime that generated models call.</summary>
    static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(PldrGen.Runtime.IPldrModel).Assembly.Location),
    ];

    public static GeneratorDriver CreateDriver(params AdditionalText[] specs) =>
        CSharpGeneratorDriver.Create(
            generators: [new PldrGenerator().AsSourceGenerator()],
            additionalTexts: specs,
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>
    /// The two types whose presence switches the generator's ILGPU branch on, as empty stubs: the ILGPU output is
    /// compared as text (Baselines/), while compiling it is the job of the projects that reference ILGPU.
    /// </summary>
    const string IlgpuStubs = """
        namespace ILGPU { public sealed class Context { } }
        namespace PldrGen.Ilgpu { public static class IlgpuModelCatalog { } }
        """;

    public static CSharpCompilation CreateCompilation(bool withIlgpu = false) =>
        CSharpCompilation.Create("PldrGen.Generator.Tests.Consumer",
            withIlgpu ? [CSharpSyntaxTree.ParseText(IlgpuStubs, ParseOptions, path: "IlgpuStubs.cs")] : [], References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>One run over the given specs; the driver's own failures (an escaped exception, CS8785) fail the test.</summary>
    public static GeneratorRunResult Run(params AdditionalText[] specs) => Run(specs, out _);

    public static GeneratorRunResult Run(AdditionalText[] specs, out Compilation output, bool withIlgpu = false)
    {
        var driver = CreateDriver(specs).RunGeneratorsAndUpdateCompilation(CreateCompilation(withIlgpu), out output, out var driverDiagnostics);
        var result = driver.GetRunResult().Results.Single();
        AssertDidNotThrow(result, driverDiagnostics);
        return result;
    }

    /// <summary>The diagnostics of one spec file at <c>/project/specs/test.pldr.yaml</c>.</summary>
    public static ImmutableArray<Diagnostic> Diagnose(string yaml) =>
        Run(new InMemoryAdditionalText(SpecPath("test.pldr.yaml"), yaml)).Diagnostics;

    static void AssertDidNotThrow(GeneratorRunResult result, ImmutableArray<Diagnostic> driverDiagnostics)
    {
        Assert.Null(result.Exception);
        Assert.DoesNotContain(driverDiagnostics, d => d.Id == "CS8785");
        Assert.DoesNotContain(result.Diagnostics, d => d.Id == "PLDR0099");
    }

    /// <summary>Generated code must compile cleanly: consumers build with warnings as errors.</summary>
    public static void AssertCompiles(Compilation output)
    {
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
    }

    public static string GeneratedText(GeneratorRunResult result, string hintName) =>
        result.GeneratedSources.Single(s => s.HintName == hintName).SourceText.ToString();

    static string Metadata(string key) =>
        typeof(GeneratorHarness).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
