using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
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
        var start = new SpecLocation(path, new TextSpan(0, 0), new LinePositionSpan());
        if (text.Length > MaxSpecChars)
        {
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.SpecTooLarge, start, text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                MaxSpecChars.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return entries;
        }
        string yaml = text.ToString();
        // YAML allows no C0 control character but tab and line breaks; YamlDotNet reads NUL as the end of the input.
        int control = yaml.IndexOfAny(ForbiddenControls);
        if (control >= 0)
        {
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.YamlSyntax, At(path, text, new Mark(control, 1, 1), new Mark(control + 1, 1, 1)),
                $"control character U+{(int)yaml[control]:X4} is not allowed in YAML"));
            return entries;
        }
        // YamlDotNet's scanner looks ahead through every open bracket, costing the square of the depth: count first.
        int tooDeep = TooDeepBracket(yaml);
        if (tooDeep >= 0)
        {
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.YamlSyntax, At(path, text, new Mark(tooDeep, 1, 1), new Mark(tooDeep + 1, 1, 1)),
                $"the value is nested deeper than {MaxDepth} levels"));
            return entries;
        }
        var parser = new Parser(new System.IO.StringReader(yaml));
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
        catch (InvalidOperationException e)
        {
            // YamlDotNet 16.3 fails this way on some malformed documents (one that starts with '...'): locate it at
            // the last event it read.
            var at = parser.Current?.End ?? Mark.Empty;
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.YamlSyntax, At(path, text, at, at), e.Message.TrimEnd('.')));
        }
        return entries;
    }

    /// <summary>Specs are a few dozen lines: past this size or depth a file is not a spec, and parsing it would cost seconds.</summary>
    const int MaxSpecChars = 1 << 20, MaxDepth = 64;

    static readonly char[] ForbiddenControls = [.. Enumerable.Range(0, 32).Where(c => c is not ('\t' or '\n' or '\r')).Select(c => (char)c), '\u007F'];

    /// <summary>
    /// The index of the first '[' or '{' that opens level <see cref="MaxDepth"/> + 1, or -1. Brackets in comments do
    /// not count; brackets in quotes do, which refuses only specs no key could accept anyway.
    /// </summary>
    static int TooDeepBracket(string yaml)
    {
        int depth = 0;
        for (int i = 0; i < yaml.Length; i++)
        {
            char c = yaml[i];
            if (c == '#' && (i == 0 || yaml[i - 1] is ' ' or '\t' or '\n' or '\r'))
            {
                while (i < yaml.Length && yaml[i] is not ('\n' or '\r')) i++;
                continue;
            }
            if (c is '[' or '{' && ++depth > MaxDepth) return i;
            if (c is ']' or '}' && depth > 0) depth--;
        }
        return -1;
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
                case SequenceStart or MappingStart when flow.Count == MaxDepth:
                    throw new YamlException(e.Start, e.End, $"the value is nested deeper than {MaxDepth} levels");
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
