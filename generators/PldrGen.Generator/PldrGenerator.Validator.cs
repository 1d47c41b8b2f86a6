using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using PldrGen.Generator.Model;

namespace PldrGen.Generator;

partial class PldrGenerator
{
    enum Kind { Int, Number, Bool, Identifier, Namespace, CustomG }

    /// <summary>Every key a spec may hold, with its kind. Keys mirror the Hugging Face pldrllm config.json.</summary>
    static readonly (string Key, Kind Kind, bool Required, string Example)[] Keys =
    [
        ("class_name", Kind.Identifier, true, "MyPldrModel"),
        ("namespace", Kind.Namespace, false, "MyApp.Models"),
        ("vocab_size", Kind.Int, true, "32000"),
        ("hidden_size", Kind.Int, false, "896"),
        ("intermediate_size", Kind.Int, false, "2389"),
        ("num_hidden_layers", Kind.Int, true, "5"),
        ("num_attention_heads", Kind.Int, true, "14"),
        ("head_dim", Kind.Int, false, "64"),
        ("max_position_embeddings", Kind.Int, true, "1024"),
        ("layer_norm_eps", Kind.Number, false, "1e-6"),
        ("rope_theta", Kind.Number, false, "10000"),
        ("reference_rope", Kind.Bool, false, "true"),
        ("num_reslayerA", Kind.Int, false, "8"),
        ("num_denseA", Kind.Int, false, "2"),
        ("A_dff", Kind.Int, false, "170"),
        ("custom_G_type", Kind.CustomG, false, "null"),
        ("cache_first_G", Kind.Bool, false, "false"),
        ("attention_bias", Kind.Bool, false, "true"),
        ("glu_bias", Kind.Bool, false, "true"),
        ("final_bias", Kind.Bool, false, "true"),
        ("eos_token_id", Kind.Int, false, "3"),
    ];

    static readonly string[] CustomGTypes = ["identity", "random", "external"];
    const long MaxArrayLength = 0x7FFFFFC7;

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
            diagnostics.Add(Diagnostic("PLDR0099", start, e.GetType().Name + ": " + e.Message));
            return new ParsedSpec(null, diagnostics.ToImmutableArray(), null);
        }
    }

    static ModelSpec? Validate(string path, SourceText text, List<SpecEntry> entries, List<DiagnosticInfo> diagnostics,
        out SpecLocation? classNameLocation)
    {
        var byKey = new Dictionary<string, SpecEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!Keys.Any(k => k.Key == entry.Key))
                diagnostics.Add(Diagnostic("PLDR0002", entry.KeyLocation, entry.Key, string.Join(", ", Keys.Select(k => k.Key))));
            else if (byKey.ContainsKey(entry.Key))
                diagnostics.Add(Diagnostic("PLDR0013", entry.KeyLocation, entry.Key));
            else
                byKey[entry.Key] = entry;
        }
        var fileStart = new SpecLocation(path, new TextSpan(0, 0), new LinePositionSpan());
        foreach (var (key, _, required, example) in Keys)
            if (required && !byKey.ContainsKey(key))
                diagnostics.Add(Diagnostic("PLDR0003", fileStart, key, example));
        if (!byKey.ContainsKey("hidden_size") && !byKey.ContainsKey("head_dim"))
            diagnostics.Add(Diagnostic("PLDR0003", fileStart, "head_dim", "64"));

        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var entry in byKey.Values)
            if (TryConvert(entry, Keys.First(k => k.Key == entry.Key).Kind, diagnostics, out var value))
                values[entry.Key] = value;
        classNameLocation = byKey.TryGetValue("class_name", out var cn) ? cn.ValueLocation : null;
        if (diagnostics.Any(IsError)) return null;

        int Int(string key, int fallback) => values.TryGetValue(key, out var v) ? (int)v! : fallback;
        double Number(string key, double fallback) => values.TryGetValue(key, out var v) ? (double)v! : fallback;
        bool Bool(string key, bool fallback) => values.TryGetValue(key, out var v) ? (bool)v! : fallback;
        SpecLocation Where(string key) => byKey.TryGetValue(key, out var e) ? e.ValueLocation : fileStart;

        foreach (var key in new[] { "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "head_dim", "max_position_embeddings" })
            if (values.TryGetValue(key, out var v) && (int)v! <= 0)
                diagnostics.Add(Diagnostic("PLDR0005", Where(key), key, Format(v)));
        foreach (var key in new[] { "layer_norm_eps", "rope_theta" })
            if (values.TryGetValue(key, out var v) && !((double)v! > 0))
                diagnostics.Add(Diagnostic("PLDR0005", Where(key), key, Format(v)));
        // The epsilon is emitted as a float literal: out of float's range it would read `Infinityf` or `0f`.
        if (values.TryGetValue("layer_norm_eps", out var eps) && (double)eps! > 0 && !((float)(double)eps! is > 0 and < float.PositiveInfinity))
            diagnostics.Add(Diagnostic("PLDR0016", Where("layer_norm_eps"), "layer_norm_eps", byKey["layer_norm_eps"].Value!,
                "a positive float32 (1.4E-45 to 3.4028235E+38)"));
        if (diagnostics.Any(IsError)) return null;

        int heads = Int("num_attention_heads", 1);
        int headDim = Int("head_dim", Int("hidden_size", 0) / heads);
        long product = (long)heads * headDim;
        // Derived sizes are computed in long: past int they would wrap into a wrong, even negative, const.
        if (!byKey.ContainsKey("hidden_size") && product > int.MaxValue)
        {
            diagnostics.Add(Diagnostic("PLDR0016", Where("head_dim"), "num_attention_heads × head_dim", Format(product),
                "at most 2147483647, the largest hidden_size"));
            return null;
        }
        int hidden = Int("hidden_size", (int)product);
        if (product != hidden)
            diagnostics.Add(Diagnostic("PLDR0006", Where(byKey.ContainsKey("hidden_size") ? "hidden_size" : "head_dim"),
                Format(hidden), Format(heads), Format(headDim), Format(product)));
        else if (headDim % 2 != 0)
            diagnostics.Add(Diagnostic("PLDR0007", Where(byKey.ContainsKey("head_dim") ? "head_dim" : "hidden_size"), Format(headDim)));

        var customG = values.TryGetValue("custom_G_type", out var g) ? (string?)g : null;
        var metricKeys = new[] { "num_reslayerA", "num_denseA", "A_dff" };
        foreach (var key in metricKeys)
        {
            bool given = values.TryGetValue(key, out var v);
            if (customG is not null && given && (int)v! != 0)
                diagnostics.Add(Diagnostic("PLDR0009", Where(key), key, Format(v)));
            else if (customG is null && !given)
                diagnostics.Add(Diagnostic("PLDR0010", fileStart, key));
            else if (customG is null && (int)v! <= 0)
                diagnostics.Add(Diagnostic("PLDR0005", Where(key), key, Format(v)));
        }
        int vocab = Int("vocab_size", 1);
        int eos = Int("eos_token_id", 3);
        if (eos < 0 || eos >= vocab)
            diagnostics.Add(Diagnostic("PLDR0016", Where("eos_token_id"), "eos_token_id", Format(eos), $"a token id below vocab_size ({Format(vocab)})"));
        long intermediate = values.TryGetValue("intermediate_size", out var f) ? (int)f! : (long)hidden * 8 / 3;
        if (intermediate > int.MaxValue)
            diagnostics.Add(Diagnostic("PLDR0016", Where(byKey.ContainsKey("hidden_size") ? "hidden_size" : "head_dim"),
                "intermediate_size (hidden_size · 8/3)", Format(intermediate), "at most 2147483647: give intermediate_size, or reduce hidden_size"));
        if (diagnostics.Any(IsError)) return null;

        var spec = new ModelSpec(
            SpecPath: path,
            Namespace: values.TryGetValue("namespace", out var ns) ? (string)ns! : "PldrGen.Models",
            ClassName: (string)values["class_name"]!,
            VocabSize: vocab, HiddenSize: hidden,
            IntermediateSize: (int)intermediate,
            NumHiddenLayers: Int("num_hidden_layers", 1), NumAttentionHeads: heads, HeadDim: headDim,
            MaxPositionEmbeddings: Int("max_position_embeddings", 1),
            LayerNormEps: Number("layer_norm_eps", 1e-6), RopeTheta: Number("rope_theta", 10000),
            ReferenceRope: Bool("reference_rope", true),
            NumReslayerA: customG is null ? Int("num_reslayerA", 0) : 0,
            NumDenseA: customG is null ? Int("num_denseA", 0) : 0,
            ADff: customG is null ? Int("A_dff", 0) : 0,
            CustomGType: customG, CacheFirstG: Bool("cache_first_G", false),
            AttentionBias: Bool("attention_bias", true), GluBias: Bool("glu_bias", true), FinalBias: Bool("final_bias", true),
            EosTokenId: eos);
        CheckSizes(spec, Where, diagnostics);
        return diagnostics.Any(IsError) ? null : spec;
    }

    /// <summary>Every buffer the model allocates must fit one .NET array: refuse shapes that would not.</summary>
    static void CheckSizes(ModelSpec s, Func<string, SpecLocation> where, List<DiagnosticInfo> diagnostics)
    {
        var checks = new (string Tensor, long Elements, string Key)[]
        {
            ("decoder.embedding.weight", (long)s.VocabSize * s.HiddenSize, "vocab_size"),
            ("ffn.gluw1.weight", (long)s.IntermediateSize * s.HiddenSize, "intermediate_size"),
            ("the KV-cache", (long)s.NumHiddenLayers * s.MaxPositionEmbeddings * s.HiddenSize, "max_position_embeddings"),
            ("the prefill feed-forward scratch", (long)s.MaxPositionEmbeddings * s.IntermediateSize, "max_position_embeddings"),
            ("the metric-learner scratch", (long)s.HiddenSize * s.HeadDim * Math.Max(s.ADff, 1), "A_dff"),
            ("the G-cache", (long)s.NumHiddenLayers * s.NumAttentionHeads * s.HeadDim * s.HeadDim, "head_dim"),
            // The GPU backend fuses Q/K/V and the GLU's gate/up projections, and reduces logits in 64-wide blocks.
            ("the fused Q/K/V weights", 3L * s.HiddenSize * s.HiddenSize, "hidden_size"),
            ("the fused gate/up weights", 2L * s.IntermediateSize * s.HiddenSize, "intermediate_size"),
            ("the prefill Q/K/V scratch", 3L * s.MaxPositionEmbeddings * s.HiddenSize, "max_position_embeddings"),
            ("the prefill gate/up scratch", 2L * s.MaxPositionEmbeddings * s.IntermediateSize, "max_position_embeddings"),
            ("the logits reduction", 64L * s.VocabSize, "vocab_size"),
        };
        foreach (var (tensor, elements, key) in checks)
            if (elements > MaxArrayLength)
            {
                diagnostics.Add(Diagnostic("PLDR0015", where(key), tensor, Format(elements), Format(MaxArrayLength), key));
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
            diagnostics.Add(Diagnostic("PLDR0004", entry.ValueLocation, entry.Key, expected, entry.ValueKind));
            return false;
        }
        switch (kind)
        {
            case Kind.Int when !entry.Quoted && IsWholeNumber(raw!):
                // A whole number too long for int (or even long) is out of range, not of the wrong type.
                if (!int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i))
                {
                    diagnostics.Add(Diagnostic("PLDR0016", entry.ValueLocation, entry.Key, raw!, raw![0] == '-' ? "at least -2147483648" : "at most 2147483647"));
                    return false;
                }
                value = i;
                return true;
            case Kind.Number when !entry.Quoted && double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double d):
                if (double.IsInfinity(d))
                {
                    diagnostics.Add(Diagnostic("PLDR0016", entry.ValueLocation, entry.Key, raw!, "a finite number"));
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
                diagnostics.Add(Diagnostic("PLDR0008", entry.ValueLocation, raw!));
                return false;
            case Kind.CustomG:
                value = raw;
                return true;
            case Kind.Identifier or Kind.Namespace when !isNull:
                bool valid = kind == Kind.Identifier ? IsIdentifier(raw!) : raw!.Split('.').All(IsIdentifier);
                if (!valid)
                {
                    diagnostics.Add(Diagnostic("PLDR0012", entry.ValueLocation, entry.Key, raw!, kind == Kind.Identifier ? "type name" : "namespace"));
                    return false;
                }
                value = raw;
                return true;
        }
        diagnostics.Add(Diagnostic("PLDR0004", entry.ValueLocation, entry.Key, expected, raw!));
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

    static bool IsError(DiagnosticInfo d) => d.Id != "PLDR0002";

    static string Format(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";

    internal static DiagnosticInfo Diagnostic(string id, SpecLocation location, params string[] arguments) =>
        new(id, location, arguments.ToImmutableArray());
}
