using System.Collections.Generic;
using Microsoft.CodeAnalysis.Text;
using PldrGen.Generator.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace PldrGen.Generator;

partial class PldrGenerator
{
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
                diagnostics.Add(Diagnostic("PLDR0014", At(path, text, current.Start, current.End), Describe(current)));
                return entries;
            }
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyEvent = parser.Consume<NodeEvent>();
                var keyLocation = At(path, text, keyEvent.Start, keyEvent.End);
                if (keyEvent is not Scalar key)
                {
                    diagnostics.Add(Diagnostic("PLDR0014", keyLocation, "a key that is not a plain name"));
                    return entries;
                }
                var valueEvent = parser.Current!;
                if (valueEvent is Scalar scalar)
                {
                    parser.MoveNext();
                    entries.Add(new SpecEntry(key.Value, keyLocation, scalar.Value, scalar.Style != ScalarStyle.Plain, "scalar",
                        At(path, text, scalar.Start, scalar.End)));
                }
                else
                {
                    var start = valueEvent.Start;
                    parser.SkipThisAndNestedEvents();
                    var kind = valueEvent is SequenceStart ? "a list" : valueEvent is MappingStart ? "a mapping" : "an alias";
                    entries.Add(new SpecEntry(key.Value, keyLocation, null, false, kind, At(path, text, start, start)));
                }
            }
        }
        catch (YamlException e)
        {
            // YamlDotNet's messages end with a period; the descriptor adds its own.
            diagnostics.Add(Diagnostic("PLDR0001", At(path, text, e.Start, e.End), (e.InnerException?.Message ?? e.Message).TrimEnd('.')));
        }
        return entries;
    }

    static string Describe(ParsingEvent e) => e switch
    {
        Scalar { Value.Length: 0, Style: ScalarStyle.Plain } => "an empty document",
        Scalar s => $"the single value '{s.Value}'",
        SequenceStart => "a list",
        _ => "an empty document",
    };

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
