using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace PldrGen.Generator.Model;

/// <summary>A place in a spec file, kept as plain values so it can sit in an equatable record.</summary>
public sealed record SpecLocation(string Path, TextSpan Span, LinePositionSpan Lines)
{
    public Location ToLocation() => Location.Create(Path, Span, Lines);
}

/// <summary>
/// A diagnostic waiting to be reported: its descriptor (which decides the severity), place, message arguments.
/// Descriptors are the static instances of <see cref="Diagnostics.DiagnosticDescriptors"/> and compare by value.
/// </summary>
public sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, SpecLocation Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location.ToLocation(), System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Cast<object>(Arguments)));
}

/// <summary>The result of reading one spec file: the model (null when an error stops it) and what to report.</summary>
public sealed record ParsedSpec(ModelSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics, SpecLocation? ClassNameLocation);
