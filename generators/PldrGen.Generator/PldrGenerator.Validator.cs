using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using PldrGen.Generator.Diagnostics;
using PldrGen.Generator.Model;

namespace PldrGen.Generator;

partial class PldrGenerator
{
    enum Kind { Int, Number, Bool, Identifier, Namespace, CustomG }

    /// <summary>Every key a spec may hold, with its kind. Keys mirror the Hugging Face pldrllm config.json.</summary>
    static readonly (string Key, Kind Kind, bool Required, string Example)[] Keys =
    [
        (SpecKeys.ClassName, Kind.Identifier, true, "MyPldrModel"),
        (SpecKeys.Namespace, Kind.Namespace, false, "MyApp.Models"),
        (SpecKeys.VocabSize, Kind.Int, true, "32000"),
        (SpecKeys.HiddenSize, Kind.Int, false, "896"),
        (SpecKeys.IntermediateSize, Kind.Int, false, "2389"),
        (SpecKeys.NumHiddenLayers, Kind.Int, true, "5"),
        (SpecKeys.NumAttentionHeads, Kind.Int, true, "14"),
        (SpecKeys.HeadDim, Kind.Int, false, "64"),
        (SpecKeys.MaxPositionEmbeddings, Kind.Int, true, "1024"),
        (SpecKeys.LayerNormEps, Kind.Number, false, "1e-6"),
        (SpecKeys.RopeTheta, Kind.Number, false, "10000"),
        (SpecKeys.ReferenceRope, Kind.Bool, false, "true"),
        (SpecKeys.NumReslayerA, Kind.Int, false, "8"),
        (SpecKeys.NumDenseA, Kind.Int, false, "2"),
        (SpecKeys.ADff, Kind.Int, false, "170"),
        (SpecKeys.CustomGType, Kind.CustomG, false, "null"),
        (SpecKeys.CacheFirstG, Kind.Bool, false, "false"),
        (SpecKeys.AttentionBias, Kind.Bool, false, "true"),
        (SpecKeys.GluBias, Kind.Bool, false, "true"),
        (SpecKeys.FinalBias, Kind.Bool, false, "true"),
        (SpecKeys.EosTokenId, Kind.Int, false, "3"),
    ];

    static readonly string[] CustomGTypes = ["identity", "random", "external"];
    const long MaxArrayLength = 0x7FFFFFC7;

    static ModelSpec? Validate(string path, SourceText text, List<SpecEntry> entries, List<DiagnosticInfo> diagnostics,
        out SpecLocation? classNameLocation)
    {
        var byKey = new Dictionary<string, SpecEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!Keys.Any(k => k.Key == entry.Key))
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.UnknownKey, entry.KeyLocation, entry.Key, string.Join(", ", Keys.Select(k => k.Key))));
            else if (byKey.ContainsKey(entry.Key))
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.DuplicateKey, entry.KeyLocation, entry.Key));
            else
                byKey[entry.Key] = entry;
        }
        var fileStart = new SpecLocation(path, new TextSpan(0, 0), new LinePositionSpan());
        foreach (var (key, _, required, example) in Keys)
            if (required && !byKey.ContainsKey(key))
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.MissingKey, fileStart, key, example));
        if (!byKey.ContainsKey(SpecKeys.HiddenSize) && !byKey.ContainsKey(SpecKeys.HeadDim))
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.MissingKey, fileStart, SpecKeys.HeadDim, "64"));

        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var entry in byKey.Values)
            if (TryConvert(entry, Keys.First(k => k.Key == entry.Key).Kind, diagnostics, out var value))
                values[entry.Key] = value;
        classNameLocation = byKey.TryGetValue(SpecKeys.ClassName, out var cn) ? cn.ValueLocation : null;
        if (diagnostics.Any(IsError)) return null;
        CheckGeneratedNames(values, byKey, diagnostics);
        if (diagnostics.Any(IsError)) return null;

        int Int(string key, int fallback) => values.TryGetValue(key, out var v) ? (int)v! : fallback;
        double Number(string key, double fallback) => values.TryGetValue(key, out var v) ? (double)v! : fallback;
        bool Bool(string key, bool fallback) => values.TryGetValue(key, out var v) ? (bool)v! : fallback;
        SpecLocation Where(string key) => byKey.TryGetValue(key, out var e) ? e.ValueLocation : fileStart;

        foreach (var key in new[] { SpecKeys.VocabSize, SpecKeys.HiddenSize, SpecKeys.IntermediateSize, SpecKeys.NumHiddenLayers, SpecKeys.NumAttentionHeads, SpecKeys.HeadDim, SpecKeys.MaxPositionEmbeddings })
            if (values.TryGetValue(key, out var v) && (int)v! <= 0)
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.NonPositive, Where(key), key, Format(v)));
        foreach (var key in new[] { SpecKeys.LayerNormEps, SpecKeys.RopeTheta })
            if (values.TryGetValue(key, out var v) && !((double)v! > 0))
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.NonPositive, Where(key), key, Format(v)));
        if (diagnostics.Any(IsError)) return null;

        int heads = Int(SpecKeys.NumAttentionHeads, 1);
        int headDim = Int(SpecKeys.HeadDim, Int(SpecKeys.HiddenSize, 0) / heads);
        long product = (long)heads * headDim;
        // Derived sizes are computed in long: past int they would wrap into a wrong, even negative, const.
        if (!byKey.ContainsKey(SpecKeys.HiddenSize) && product > int.MaxValue)
        {
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.OutOfRange, Where(SpecKeys.HeadDim), "num_attention_heads × head_dim", Format(product),
                "at most 2147483647, the largest hidden_size"));
            return null;
        }
        int hidden = Int(SpecKeys.HiddenSize, (int)product);
        if (product != hidden)
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.HiddenSizeMismatch, Where(byKey.ContainsKey(SpecKeys.HiddenSize) ? SpecKeys.HiddenSize : SpecKeys.HeadDim),
                Format(hidden), Format(heads), Format(headDim), Format(product)));
        else if (headDim % 2 != 0)
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.OddHeadDim, Where(byKey.ContainsKey(SpecKeys.HeadDim) ? SpecKeys.HeadDim : SpecKeys.HiddenSize), Format(headDim)));

        var customG = values.TryGetValue(SpecKeys.CustomGType, out var g) ? (string?)g : null;
        var metricKeys = new[] { SpecKeys.NumReslayerA, SpecKeys.NumDenseA, SpecKeys.ADff };
        foreach (var key in metricKeys)
        {
            bool given = values.TryGetValue(key, out var v);
            if (customG is not null && given && (int)v! != 0)
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.MetricLearnerOnCustomG, Where(key), key, Format(v)));
            else if (customG is null && !given)
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.MetricLearnerMissing, fileStart, key));
            else if (customG is null && (int)v! <= 0)
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.NonPositive, Where(key), key, Format(v)));
        }
        int vocab = Int(SpecKeys.VocabSize, 1);
        int eos = Int(SpecKeys.EosTokenId, SpecDefaults.EosTokenId);
        if (eos < 0 || eos >= vocab)
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.OutOfRange, Where(SpecKeys.EosTokenId), SpecKeys.EosTokenId, Format(eos), $"a token id below vocab_size ({Format(vocab)})"));
        long intermediate = values.TryGetValue(SpecKeys.IntermediateSize, out var f) ? (int)f! : SpecDefaults.IntermediateSize(hidden);
        if (intermediate > int.MaxValue)
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.OutOfRange, Where(byKey.ContainsKey(SpecKeys.HiddenSize) ? SpecKeys.HiddenSize : SpecKeys.HeadDim),
                "intermediate_size (hidden_size · 8/3)", Format(intermediate), "at most 2147483647: give intermediate_size, or reduce hidden_size"));
        if (diagnostics.Any(IsError)) return null;

        var spec = new ModelSpec(
            SpecPath: path,
            Namespace: values.TryGetValue(SpecKeys.Namespace, out var ns) ? (string)ns! : SpecDefaults.Namespace,
            ClassName: (string)values[SpecKeys.ClassName]!,
            VocabSize: vocab, HiddenSize: hidden,
            IntermediateSize: (int)intermediate,
            NumHiddenLayers: Int(SpecKeys.NumHiddenLayers, 1), NumAttentionHeads: heads, HeadDim: headDim,
            MaxPositionEmbeddings: Int(SpecKeys.MaxPositionEmbeddings, 1),
            LayerNormEps: Number(SpecKeys.LayerNormEps, SpecDefaults.LayerNormEps), RopeTheta: Number(SpecKeys.RopeTheta, SpecDefaults.RopeTheta),
            ReferenceRope: Bool(SpecKeys.ReferenceRope, SpecDefaults.ReferenceRope),
            NumReslayerA: customG is null ? Int(SpecKeys.NumReslayerA, 0) : 0,
            NumDenseA: customG is null ? Int(SpecKeys.NumDenseA, 0) : 0,
            ADff: customG is null ? Int(SpecKeys.ADff, 0) : 0,
            CustomGType: customG, CacheFirstG: Bool(SpecKeys.CacheFirstG, SpecDefaults.CacheFirstG),
            AttentionBias: Bool(SpecKeys.AttentionBias, SpecDefaults.AttentionBias), GluBias: Bool(SpecKeys.GluBias, SpecDefaults.GluBias), FinalBias: Bool(SpecKeys.FinalBias, SpecDefaults.FinalBias),
            EosTokenId: eos);
        CheckSizes(spec, Where, diagnostics);
        return diagnostics.Any(IsError) ? null : spec;
    }

    /// <summary>The class name and the namespace segments must leave the generated code's own names alone.</summary>
    static void CheckGeneratedNames(Dictionary<string, object?> values, Dictionary<string, SpecEntry> byKey, List<DiagnosticInfo> diagnostics)
    {
        string className = (string)values[SpecKeys.ClassName]!;
        var classNameAt = byKey[SpecKeys.ClassName].ValueLocation;
        if (GeneratedNames.Members.Contains(className))
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.ClassNameTaken, classNameAt, className, "a member of the model class"));
        else if (GeneratedNames.Types.Contains(className))
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.ClassNameTaken, classNameAt, className, "a type the model uses"));
        if (values.TryGetValue(SpecKeys.Namespace, out var ns))
            foreach (var segment in ((string)ns!).Split('.'))
                if (GeneratedNames.Types.Contains(segment))
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.NamespaceSegmentTaken, byKey[SpecKeys.Namespace].ValueLocation, segment));
    }

    /// <summary>Every buffer the model allocates must fit one .NET array: refuse shapes that would not.</summary>
    static void CheckSizes(ModelSpec s, Func<string, SpecLocation> where, List<DiagnosticInfo> diagnostics)
    {
        var checks = new (string Tensor, long Elements, string Key)[]
        {
            ("decoder.embedding.weight", (long)s.VocabSize * s.HiddenSize, SpecKeys.VocabSize),
            ("ffn.gluw1.weight", (long)s.IntermediateSize * s.HiddenSize, SpecKeys.IntermediateSize),
            ("the KV-cache", (long)s.NumHiddenLayers * s.MaxPositionEmbeddings * s.HiddenSize, SpecKeys.MaxPositionEmbeddings),
            ("the prefill feed-forward scratch", (long)s.MaxPositionEmbeddings * s.IntermediateSize, SpecKeys.MaxPositionEmbeddings),
            ("the metric-learner scratch", (long)s.HiddenSize * s.HeadDim * Math.Max(s.ADff, 1), SpecKeys.ADff),
            ("the G-cache", (long)s.NumHiddenLayers * s.NumAttentionHeads * s.HeadDim * s.HeadDim, SpecKeys.HeadDim),
            // The GPU backend fuses Q/K/V and the GLU's gate/up projections, and reduces logits in 64-wide blocks.
            ("the fused Q/K/V weights", 3L * s.HiddenSize * s.HiddenSize, SpecKeys.HiddenSize),
            ("the fused gate/up weights", 2L * s.IntermediateSize * s.HiddenSize, SpecKeys.IntermediateSize),
            ("the prefill Q/K/V scratch", 3L * s.MaxPositionEmbeddings * s.HiddenSize, SpecKeys.MaxPositionEmbeddings),
            ("the prefill gate/up scratch", 2L * s.MaxPositionEmbeddings * s.IntermediateSize, SpecKeys.MaxPositionEmbeddings),
            ("the logits reduction", 64L * s.VocabSize, SpecKeys.VocabSize),
        };
        foreach (var (tensor, elements, key) in checks)
            if (elements > MaxArrayLength)
            {
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.TooLarge, where(key), tensor, Format(elements), Format(MaxArrayLength), key));
                return;
            }
    }

    static bool TryConvert(SpecEntry entry, Kind kind, List<DiagnosticInfo> diagnostics, out object? value)
    {
        value = null;
        string? raw = entry.Value;
        bool isNull = raw is null || (!entry.Quoted && (raw.Length == 0 || raw == "~" || raw == "null" || raw == "Null" || raw == "NULL"));
        string expected = kind switch
        {
            Kind.Int => "a whole number",
            Kind.Number => "a number",
            Kind.Bool => "true or false",
            Kind.Identifier => "a C# type name",
            Kind.Namespace => "a C# namespace",
            _ => "identity, random, external or null",
        };
        if (entry.Value is null)
        {
            diagnostics.Add(Diagnostic(DiagnosticDescriptors.WrongType, entry.ValueLocation, entry.Key, expected, entry.ValueKind));
            return false;
        }
        switch (kind)
        {
            case Kind.Int when !entry.Quoted && IsWholeNumber(raw!):
                // A whole number too long for int (or even long) is out of range, not of the wrong type.
                if (!int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i))
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.OutOfRange, entry.ValueLocation, entry.Key, raw!, raw![0] == '-' ? "at least -2147483648" : "at most 2147483647"));
                    return false;
                }
                value = i;
                return true;
            case Kind.Number when !entry.Quoted && double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double d):
                if (double.IsInfinity(d))
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.OutOfRange, entry.ValueLocation, entry.Key, raw!, "a finite number"));
                    return false;
                }
                value = d;
                return true;
            case Kind.Bool when !entry.Quoted && (raw == "true" || raw == "false" || raw == "True" || raw == "False"):
                value = raw!.Equals("true", StringComparison.OrdinalIgnoreCase);
                return true;
            case Kind.CustomG when isNull:
                return true;
            case Kind.CustomG when !CustomGTypes.Contains(raw):
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.UnknownCustomG, entry.ValueLocation, raw!));
                return false;
            case Kind.CustomG:
                value = raw;
                return true;
            case Kind.Identifier or Kind.Namespace when !isNull:
                bool valid = kind == Kind.Identifier ? IsIdentifier(raw!) : raw!.Split('.').All(IsIdentifier);
                if (!valid)
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.InvalidIdentifier, entry.ValueLocation, entry.Key, raw!, kind == Kind.Identifier ? "type name" : "namespace"));
                    return false;
                }
                value = raw;
                return true;
        }
        diagnostics.Add(Diagnostic(DiagnosticDescriptors.WrongType, entry.ValueLocation, entry.Key, expected, raw!));
        return false;
    }

    static bool IsWholeNumber(string text)
    {
        int start = text.Length > 0 && (text[0] == '-' || text[0] == '+') ? 1 : 0;
        return text.Length > start && text.Skip(start).All(c => c is >= '0' and <= '9');
    }

    static bool IsIdentifier(string name) =>
        SyntaxFacts.IsValidIdentifier(name) && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None
        && SyntaxFacts.GetContextualKeywordKind(name) == SyntaxKind.None;

    static bool IsError(DiagnosticInfo d) => d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error;

    static string Format(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";

    internal static DiagnosticInfo Diagnostic(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, SpecLocation location, params string[] arguments) =>
        new(descriptor, location, arguments.ToImmutableArray());
}
