using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using PldrGen.Generator.Model;

namespace PldrGen.Generator;

/// <summary>
/// Compiles every <c>*.pldr.yaml</c> AdditionalFile into a typed PLDR-LLM: a model class with <c>const</c> shapes,
/// its weights, its run state and its forward pass.
/// </summary>
/// <remarks>
/// Pipeline: spec file → <see cref="Parse"/> (YAML read + validated into an equatable <see cref="ParsedSpec"/>) →
/// two branches: diagnostics (with locations) and models (without), so that a comment-only edit changes nothing
/// downstream and a diagnostic change never regenerates code. One more step collects the type names for the
/// duplicate check and the registry.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed partial class PldrGenerator : IIncrementalGenerator
{
    public const string SpecSuffix = ".pldr.yaml";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.AdditionalTextsProvider
            .Where(static file => file.Path.EndsWith(SpecSuffix, StringComparison.OrdinalIgnoreCase))
            .Select(static (file, ct) => Parse(file.Path, file.GetText(ct)))
            .WithTrackingName(TrackingNames.Parse);

        var specs = parsed
            .Where(static p => p.Spec is not null)
            .Select(static (p, _) => p.Spec!)
            .WithTrackingName(TrackingNames.Spec);

        var names = specs
            .Select(static (s, _) => new SpecName(s.FullName, s.SpecPath))
            .Collect()
            .Select(static (all, _) => new EquatableArray<SpecName>(all.OrderBy(n => n.SpecPath, StringComparer.Ordinal).ToImmutableArray()))
            .WithTrackingName(TrackingNames.Names);

        // Diagnostics branch: each spec's own problems, then the type names that two specs share.
        context.RegisterSourceOutput(parsed.Select(static (p, _) => p.Diagnostics), static (spc, diagnostics) =>
        {
            foreach (var d in diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
        });
        var classNameLocations = parsed
            .Where(static p => p.Spec is not null && p.ClassNameLocation is not null)
            .Select(static (p, _) => (Name: p.Spec!.FullName, Location: p.ClassNameLocation!))
            .Collect();
        context.RegisterSourceOutput(classNameLocations, static (spc, all) => ReportNameClashes(spc, all));

        // Output branch: one file per spec that owns its names (see Emits), and the assembly's model registry.
        context.RegisterSourceOutput(specs.Combine(names).WithTrackingName(TrackingNames.Emit), static (spc, pair) =>
        {
            var (spec, allNames) = pair;
            if (Emits(spec, allNames)) spc.AddSource(spec.FullName + ".g.cs", Emit(spec));
        });
        context.RegisterSourceOutput(names, static (spc, allNames) =>
        {
            var emitted = allNames.Where(n => Emits(n, allNames)).ToImmutableArray();
            if (emitted.Length > 0) spc.AddSource("PldrGenModels.g.cs", EmitRegistry(new EquatableArray<SpecName>(emitted)));
        });

        // ILGPU branch: consumers that reference PldrGen.Ilgpu also get <ClassName>Ilgpu per spec (a bool keeps it incremental).
        var referencesIlgpu = context.CompilationProvider
            .Select(static (c, _) => c.GetTypeByMetadataName(IlgpuCatalogType) is not null && c.GetTypeByMetadataName("ILGPU.Context") is not null)
            .WithTrackingName(TrackingNames.ReferencesIlgpu);
        context.RegisterSourceOutput(specs.Combine(names).Combine(referencesIlgpu).WithTrackingName(TrackingNames.EmitIlgpu), static (spc, input) =>
        {
            var ((spec, allNames), ilgpu) = input;
            if (ilgpu && Emits(spec, allNames)) spc.AddSource(spec.FullName + GeneratedNames.IlgpuSuffix + ".g.cs", EmitIlgpu(spec));
        });
    }

    /// <summary>
    /// A spec is emitted unless another one owns its type name: the first spec (by path) of a name, and any spec whose
    /// type is another's ILGPU model <c>&lt;Name&gt;Ilgpu</c>. The skipped ones get PLDR0011 or PLDR0019.
    /// </summary>
    static bool Emits(ModelSpec spec, EquatableArray<SpecName> all) => Emits(new SpecName(spec.FullName, spec.SpecPath), all);

    static bool Emits(SpecName spec, EquatableArray<SpecName> all) =>
        all.First(n => n.FullName == spec.FullName).SpecPath == spec.SpecPath
        && !all.Any(n => n.FullName + GeneratedNames.IlgpuSuffix == spec.FullName);

    static void ReportNameClashes(SourceProductionContext context, ImmutableArray<(string Name, SpecLocation Location)> all)
    {
        foreach (var group in all.GroupBy(x => x.Name))
        {
            var ordered = group.OrderBy(x => x.Location.Path, StringComparer.Ordinal).ToList();
            foreach (var duplicate in ordered.Skip(1))
                context.ReportDiagnostic(Microsoft.CodeAnalysis.Diagnostic.Create(Diagnostics.DiagnosticDescriptors.DuplicateClass,
                    duplicate.Location.ToLocation(), group.Key, ordered[0].Location.Path));
        }
        foreach (var twin in all)
            foreach (var owner in all.Where(x => x.Name + GeneratedNames.IlgpuSuffix == twin.Name).Take(1))
                context.ReportDiagnostic(Microsoft.CodeAnalysis.Diagnostic.Create(Diagnostics.DiagnosticDescriptors.IlgpuModelName,
                    twin.Location.ToLocation(), twin.Name, owner.Location.Path));
    }

    /// <summary>Names of the pipeline steps, for incrementality tests.</summary>
    public static class TrackingNames
    {
        public const string Parse = nameof(Parse);
        public const string Spec = nameof(Spec);
        public const string Names = nameof(Names);
        public const string Emit = nameof(Emit);
        public const string ReferencesIlgpu = nameof(ReferencesIlgpu);
        public const string EmitIlgpu = nameof(EmitIlgpu);
    }
}
