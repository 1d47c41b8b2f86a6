using System.Globalization;
using System.Text.Json;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>
/// The shape of a PLDR-LLM, named like the Hugging Face <c>pldrllm</c> config.json. A compiled spec carries one
/// (generated from its YAML) and a checkpoint folder carries one (read from config.json); loading compares them.
/// </summary>
public sealed record PldrConfig(
    int VocabSize, int HiddenSize, int IntermediateSize, int NumHiddenLayers, int NumAttentionHeads, int HeadDim,
    int MaxPositionEmbeddings, double LayerNormEps, double RopeTheta, bool ReferenceRope,
    int NumReslayerA, int NumDenseA, int ADff, string? CustomGType, bool CacheFirstG,
    bool AttentionBias, bool GluBias, bool FinalBias)
{
    /// <summary>True when G comes from a metric learner; false for custom-G (v510G) models.</summary>
    public bool LearnedG => CustomGType is null;

    /// <summary>Each compared field: config.json name, value.</summary>
    public IEnumerable<(string Name, string Value)> Fields()
    {
        yield return (SpecKeys.VocabSize, Int(VocabSize));
        yield return (SpecKeys.HiddenSize, Int(HiddenSize));
        yield return (SpecKeys.IntermediateSize, Int(IntermediateSize));
        yield return (SpecKeys.NumHiddenLayers, Int(NumHiddenLayers));
        yield return (SpecKeys.NumAttentionHeads, Int(NumAttentionHeads));
        yield return (SpecKeys.HeadDim, Int(HeadDim));
        yield return (SpecKeys.MaxPositionEmbeddings, Int(MaxPositionEmbeddings));
        yield return (SpecKeys.LayerNormEps, Num(LayerNormEps));
        yield return (SpecKeys.RopeTheta, Num(RopeTheta));
        yield return (SpecKeys.ReferenceRope, Bool(ReferenceRope));
        yield return (SpecKeys.NumReslayerA, Int(NumReslayerA));
        yield return (SpecKeys.NumDenseA, Int(NumDenseA));
        yield return (SpecKeys.ADff, Int(ADff));
        yield return (SpecKeys.CustomGType, CustomGType ?? "null");
        yield return (SpecKeys.AttentionBias, Bool(AttentionBias));
        yield return (SpecKeys.GluBias, Bool(GluBias));
        yield return (SpecKeys.FinalBias, Bool(FinalBias));
    }

    static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
    static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    static string Bool(bool v) => v ? "true" : "false";

    /// <summary>The first field where <paramref name="found"/> differs, as "name: expected X, found Y"; null when they agree.</summary>
    public string? FirstDifference(PldrConfig found)
    {
        // cache_first_G only matters for batches and is a run-time choice: not part of the shape.
        foreach (var ((name, expected), (_, actual)) in Fields().Zip(found.Fields()))
            if (expected != actual) return $"{name}: the compiled spec has {expected}, the checkpoint has {actual}";
        return null;
    }

    /// <summary>Reads a Hugging Face pldrllm config.json, applying the config's own defaults and derivations.</summary>
    public static PldrConfig Load(string path)
    {
        if (!File.Exists(path)) throw new PldrException($"{path}: file not found");
        JsonDocument doc;
        var bytes = File.ReadAllBytes(path);
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new PldrException($"{path}: not valid UTF-8");
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw new PldrException($"{path}: not valid JSON ({e.Message})"); }
        using (doc) return FromJson(path, doc.RootElement);
    }

    static PldrConfig FromJson(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new PldrException($"{path}: expected a JSON object");
        if (root.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String && mt.GetString() != "pldrllm")
            throw new PldrException($"{path}: model_type is '{mt.GetString()}', expected 'pldrllm'");

        int heads = RequiredInt(SpecKeys.NumAttentionHeads);
        if (heads <= 0) throw new PldrException($"{path}: num_attention_heads must be positive, found {heads}");
        int headDim = OptionalInt(SpecKeys.HeadDim) ?? RequiredInt(SpecKeys.HiddenSize) / heads;
        int hidden = OptionalInt(SpecKeys.HiddenSize) ?? heads * headDim;
        int intermediate = OptionalInt(SpecKeys.IntermediateSize) ?? (int)SpecDefaults.IntermediateSize(hidden);
        string? customG = root.TryGetProperty(SpecKeys.CustomGType, out var cg) && cg.ValueKind == JsonValueKind.String ? cg.GetString() : null;
        return new PldrConfig(
            VocabSize: RequiredInt(SpecKeys.VocabSize), HiddenSize: hidden, IntermediateSize: intermediate,
            NumHiddenLayers: RequiredInt(SpecKeys.NumHiddenLayers), NumAttentionHeads: heads, HeadDim: headDim,
            MaxPositionEmbeddings: RequiredInt(SpecKeys.MaxPositionEmbeddings),
            LayerNormEps: OptionalDouble(SpecKeys.LayerNormEps) ?? SpecDefaults.LayerNormEps, RopeTheta: OptionalDouble(SpecKeys.RopeTheta) ?? SpecDefaults.RopeTheta,
            ReferenceRope: OptionalBool(SpecKeys.ReferenceRope) ?? SpecDefaults.ReferenceRope,
            NumReslayerA: customG is null ? RequiredInt(SpecKeys.NumReslayerA) : 0,
            NumDenseA: customG is null ? RequiredInt(SpecKeys.NumDenseA) : 0,
            ADff: customG is null ? RequiredInt(SpecKeys.ADff) : 0,
            CustomGType: customG, CacheFirstG: OptionalBool(SpecKeys.CacheFirstG) ?? SpecDefaults.CacheFirstG,
            AttentionBias: OptionalBool(SpecKeys.AttentionBias) ?? SpecDefaults.AttentionBias, GluBias: OptionalBool(SpecKeys.GluBias) ?? SpecDefaults.GluBias,
            FinalBias: OptionalBool(SpecKeys.FinalBias) ?? SpecDefaults.FinalBias);

        int RequiredInt(string name) => OptionalInt(name) ?? throw new PldrException($"{path}: required field '{name}' is missing");
        int? OptionalInt(string name) =>
            !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
            : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i
            : throw new PldrException($"{path}: field '{name}' must be an integer, found {v}");
        double? OptionalDouble(string name) =>
            !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
            : v.ValueKind == JsonValueKind.Number ? v.GetDouble()
            : throw new PldrException($"{path}: field '{name}' must be a number, found {v}");
        bool? OptionalBool(string name) =>
            !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
            : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
            : throw new PldrException($"{path}: field '{name}' must be true or false, found {v}");
    }
}
