using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis.Text;
using PldrGen.Generator.Diagnostics;
using PldrGen.Generator.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace PldrGen.Generator;

partial class PldrGenerator
{
    /// <summary>Reads and validates one spec. Never throws: an unexpected failure becomes PLDR0099 at the file start.</summary>
    internal static ParsedSpec Parse(string path, SourceText? text)
    {
        var diagnostics = new List<DiagnosticInfo>();
        text ??= SourceText.From(string.Empty);
        try
        {
            var entries = ReadYaml(path, text, diagnostics);
            if (diagnostics.Count > 0) return new ParsedSpec(null, diagnostics.ToImmutableArray(), null);
            var spec = Validate(path, text, entries, diagnostics, out var classNameLocation);
            return new ParsedSpec(spec, diagnostics.ToImmutableArray(), classNameLocation);
        }
        catch (Exception e)
        {
            var start = new SpecLocation(path, new TextSpan(0, 0), new LinePositionSpan());
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.InternalError, start, e.GetType().Name + ": " + e.Message));
            return new ParsedSpec(null, diagnostics.ToImmutableArray(), null);
        }
    }

    /// <summary>One <c>key: value</c> line of a spec, with both positions. Value is null for a non-scalar value.</summary>
    internal sealed record SpecEntry(string Key, SpecLocation KeyLocation, string? Value, bool Quoted, string ValueKind, SpecLocation ValueLocation);

    /// <summary>
    /// Reads a spec's flat YAML mapping into entries. The only code that touches YamlDotNet: its low-level parser
    /// gives the line and column of every node, which every diagnostic needs. Syntax errors come back as diagnostics.
    /// </summary>
    internal static List<SpecEntry> ReadYaml(string path, SourceText text, List<DiagnosticInfo> diagnostics)
    {
        var entries = new List<SpecEntry>();
        var parser = new Parser(new System.IO.StringReader(text.ToString()));
        try
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _)) return entries; // an empty file: the validator reports missing keys
            parser.Consume<DocumentStart>();
            if (!parser.TryConsume<MappingStart>(out _))
            {
                var current = parser.Current!;
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.NotAMapping, At(path, text, current.Start, current.End), Describe(current)));
                return entries;
            }
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyEvent = parser.Current!;
                var keyEnd = SkipNode(parser);
                var keyLocation = At(path, text, keyEvent.Start, keyEnd);
                if (keyEvent is not Scalar key)
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.NotAMapping, keyLocation, "a key that is not a plain name"));
                    return entries;
                }
                var valueEvent = parser.Current!;
                var valueLocation = At(path, text, valueEvent.Start, SkipNode(parser));
                if (valueEvent is Scalar scalar)
                    entries.Add(new SpecEntry(key.Value, keyLocation, scalar.Value, scalar.Style != ScalarStyle.Plain, "scalar", valueLocation));
                else
                {
                    var kind = valueEvent is SequenceStart ? "a list" : valueEvent is MappingStart ? "a mapping" : "an alias";
                    entries.Add(new SpecEntry(key.Value, keyLocation, null, false, kind, valueLocation));
                }
            }
            // A second document would otherwise be ignored without a word.
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
            {
                var next = parser.Current!;
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.NotAMapping, At(path, text, next.Start, next.End), "a second document"));
            }
        }
        catch (YamlException e)
        {
            // YamlDotNet's messages end with a period; the descriptor adds its own.
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.YamlSyntax, At(path, text, e.Start, e.End), (e.InnerException?.Message ?? e.Message).TrimEnd('.')));
        }
        return entries;
    }

    static string Describe(ParsingEvent e) => e switch
    {
        Scalar { Value.Length: 0, Style: ScalarStyle.Plain } => "an empty document",
        Scalar s => $"the single value '{s.Value}'",
        SequenceStart => "a list",
        _ => "an alias",
    };

    /// <summary>Moves past the node at the parser's position, a whole list or mapping included; returns where it ends.</summary>
    static Mark SkipNode(IParser parser)
    {
        var flow = new Stack<bool>(); // per open collection: [ ] or { } rather than indented lines
        var end = parser.Current!.End;
        do
        {
            var e = parser.Current!;
            switch (e)
            {
                case SequenceStart s:
                    flow.Push(s.Style == SequenceStyle.Flow);
                    break;
                case MappingStart m:
                    flow.Push(m.Style == MappingStyle.Flow);
                    break;
                case SequenceEnd or MappingEnd:
                    // YamlDotNet marks a closing bracket with an empty span before it, and the end of an indented
                    // collection at the next line's token: take the bracket, or stop after the last item.
                    if (flow.Pop()) end = new Mark(e.Start.Index + 1, e.Start.Line, e.Start.Column + 1);
                    break;
                default:
                    end = e.End;
                    break;
            }
            parser.MoveNext();
        }
        while (flow.Count > 0);
        return end;
    }

    /// <summary>A Roslyn location from YamlDotNet marks (1-based line and column, 0-based character index).</summary>
    static SpecLocation At(string path, SourceText text, Mark start, Mark end)
    {
        int length = text.Length;
        int from = (int)System.Math.Min(System.Math.Max(start.Index, 0), length);
        int to = (int)System.Math.Min(System.Math.Max(end.Index, from), length);
        var span = TextSpan.FromBounds(from, to);
        return new SpecLocation(path, span, text.Lines.GetLinePositionSpan(span));
    }
}
