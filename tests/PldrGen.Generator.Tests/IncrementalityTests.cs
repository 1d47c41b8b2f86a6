using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PldrGen.Generator.Model;
using static PldrGen.Generator.Tests.GeneratorHarness;
using Names = PldrGen.Generator.PldrGenerator.TrackingNames;

namespace PldrGen.Generator.Tests;

/// <summary>
/// What each edit reruns, read from the driver's tracked steps, with the ILGPU branch on (its two switch types
/// stubbed), so both emitters are covered. Cached: the step's input did not change. Unchanged: it ran again and
/// produced an equal value, so nothing after it runs.
/// </summary>
public class IncrementalityTests
{
    static readonly InMemoryAdditionalText LearnedG = InMemoryAdditionalText.FromSpecs("tiny-v510.pldr.yaml");
    static readonly InMemoryAdditionalText CustomG = InMemoryAdditionalText.FromSpecs("tiny-v510G-identity.pldr.yaml");

    /// <summary>The driver after a first run over both specs, ready for a second run after an edit.</summary>
    static GeneratorDriver FirstRun(Compilation compilation) => CreateDriver(LearnedG, CustomG).RunGenerators(compilation);

    [Fact]
    public void CSharpEditLeavesEveryStepCachedOrUnchanged()
    {
        var compilation = CreateCompilation(withIlgpu: true);
        var driver = FirstRun(compilation)
            .RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Edited { }", GeneratorHarness.ParseOptions)));

        var result = driver.GetRunResult().Results.Single();
        Assert.Superset(new HashSet<string> { Names.Parse, Names.Spec, Names.Names, Names.Emit, Names.ReferencesIlgpu, Names.EmitIlgpu }, result.TrackedSteps.Keys.ToHashSet());
        // "Compilation" is Roslyn's own input node: a C# edit modifies it by definition. Everything after it must not move.
        var reasons = result.TrackedSteps.Concat(result.TrackedOutputSteps).Where(steps => steps.Key != "Compilation")
            .SelectMany(steps => steps.Value.Select(step => (steps.Key, step)))
            .SelectMany(s => s.step.Outputs.Select(output => (s.Key, output.Reason)));
        Assert.All(reasons, r => Assert.True(r.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {r.Key}: {r.Reason}"));
    }

    [Fact]
    public void EditingOneSpecRerunsOnlyThatSpec()
    {
        var compilation = CreateCompilation(withIlgpu: true);
        var first = FirstRun(compilation);
        var edited = new InMemoryAdditionalText(CustomG.Path, Text(CustomG).Replace("max_position_embeddings: 64", "max_position_embeddings: 128"));
        var driver = first.ReplaceAdditionalText(CustomG, edited).RunGenerators(compilation);

        var result = driver.GetRunResult().Results.Single();
        Assert.Equal(IncrementalStepRunReason.Modified, ParseReason(result, CustomG.Path));
        Assert.Equal(IncrementalStepRunReason.Cached, ParseReason(result, LearnedG.Path));
        Assert.Equal(IncrementalStepRunReason.Modified, EmitReason(result, CustomG.Path));
        Assert.Equal(IncrementalStepRunReason.Cached, EmitReason(result, LearnedG.Path));
        Assert.Equal(IncrementalStepRunReason.Modified, EmitIlgpuReason(result, CustomG.Path));
        Assert.Equal(IncrementalStepRunReason.Cached, EmitIlgpuReason(result, LearnedG.Path));

        var before = first.GetRunResult().Results.Single();
        foreach (var hintName in new[] { "PldrGen.Models.TinyV510.g.cs", "PldrGen.Models.TinyV510Ilgpu.g.cs" })
            Assert.Equal(GeneratedText(before, hintName), GeneratedText(result, hintName));
        Assert.Contains("MaxPositions = 128;", GeneratedText(result, "PldrGen.Models.TinyV510GIdentity.g.cs"));
    }

    [Fact]
    public void CommentOnlyEditLeavesTheSpecUnchangedAndTheOutputIdentical()
    {
        var compilation = CreateCompilation(withIlgpu: true);
        var first = FirstRun(compilation);
        // A comment on top moves every position in the file, which only the diagnostics branch may see.
        var edited = new InMemoryAdditionalText(LearnedG.Path, "# A comment that moves every line down.\n\n" + Text(LearnedG));
        var driver = first.ReplaceAdditionalText(LearnedG, edited).RunGenerators(compilation);

        var result = driver.GetRunResult().Results.Single();
        Assert.Equal(IncrementalStepRunReason.Unchanged, SpecReason(result, LearnedG.Path));
        Assert.Equal(IncrementalStepRunReason.Cached, EmitReason(result, LearnedG.Path));
        Assert.Equal(IncrementalStepRunReason.Cached, EmitReason(result, CustomG.Path));
        Assert.Equal(IncrementalStepRunReason.Cached, EmitIlgpuReason(result, LearnedG.Path));
        Assert.Equal(IncrementalStepRunReason.Cached, EmitIlgpuReason(result, CustomG.Path));
        Assert.Equal(AllGeneratedText(first.GetRunResult().Results.Single()), AllGeneratedText(result));
    }

    [Fact]
    public void WarningOnlyEditReportsTheWarningWithoutRegenerating()
    {
        var compilation = CreateCompilation(withIlgpu: true);
        var first = FirstRun(compilation);
        var edited = new InMemoryAdditionalText(LearnedG.Path, Text(LearnedG) + "rope_scaling: 2\n");
        var driver = first.ReplaceAdditionalText(LearnedG, edited).RunGenerators(compilation);

        var result = driver.GetRunResult().Results.Single();
        Assert.Equal("PLDR0002", Assert.Single(result.Diagnostics).Id);
        Assert.Equal(IncrementalStepRunReason.Unchanged, SpecReason(result, LearnedG.Path));
        Assert.Equal(IncrementalStepRunReason.Cached, EmitReason(result, LearnedG.Path));
        Assert.Equal(IncrementalStepRunReason.Cached, EmitIlgpuReason(result, LearnedG.Path));
    }

    static string Text(AdditionalText file) => file.GetText()!.ToString();

    static string AllGeneratedText(GeneratorRunResult result) =>
        string.Join("\n", result.GeneratedSources.OrderBy(s => s.HintName, StringComparer.Ordinal).Select(s => s.HintName + "\n" + s.SourceText));

    static IncrementalStepRunReason ParseReason(GeneratorRunResult result, string path) =>
        Reason(result, Names.Parse, value => ((ParsedSpec)value).Spec?.SpecPath == path);

    static IncrementalStepRunReason SpecReason(GeneratorRunResult result, string path) =>
        Reason(result, Names.Spec, value => ((ModelSpec)value).SpecPath == path);

    static IncrementalStepRunReason EmitReason(GeneratorRunResult result, string path) =>
        Reason(result, Names.Emit, value => ((ValueTuple<ModelSpec, EquatableArray<SpecName>>)value).Item1.SpecPath == path);

    static IncrementalStepRunReason EmitIlgpuReason(GeneratorRunResult result, string path) =>
        Reason(result, Names.EmitIlgpu, value => ((ValueTuple<ValueTuple<ModelSpec, EquatableArray<SpecName>>, bool>)value).Item1.Item1.SpecPath == path);

    /// <summary>The reason of the one output of step <paramref name="stepName"/> that belongs to a spec.</summary>
    static IncrementalStepRunReason Reason(GeneratorRunResult result, string stepName, Func<object, bool> belongsToSpec) =>
        result.TrackedSteps[stepName].SelectMany(step => step.Outputs).Single(output => belongsToSpec(output.Value)).Reason;
}
