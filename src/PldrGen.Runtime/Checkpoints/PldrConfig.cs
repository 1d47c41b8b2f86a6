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

    /// <summary>The largest config.json read: real ones are under 2 KB.</summary>
    public const long MaxFileBytes = 1 << 20;

    /// <summary>Reads a Hugging Face pldrllm config.json, applying the config's own defaults and derivations.</summary>
    public static PldrConfig Load(string path)
    {
        using var doc = JsonInput.Parse(InputFile.ReadAll(path, MaxFileBytes, "config.json"), path, "config.json");
        return FromJson(path, doc.RootElement);
    }

    static PldrConfig FromJson(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new PldrException($"{path}: expected a JSON object");
        var fields = new JsonFields(root, path, "field");
        if (fields.String("model_type") is { } modelType && modelType != "pldrllm")
            throw new PldrException($"{path}: model_type is '{modelType}', expected 'pldrllm'");

        int heads = fields.Required(SpecKeys.NumAttentionHeads);
        if (heads <= 0) throw new PldrException($"{path}: num_attention_heads must be positive, found {heads}");
        int headDim = fields.Int(SpecKeys.HeadDim) ?? fields.Required(SpecKeys.HiddenSize) / heads;
        // Derived sizes in 64 bits: in int, 2 heads of 2^30 channels would wrap to a negative hidden_size.
        int hidden = fields.Int(SpecKeys.HiddenSize) ?? Derived(SpecKeys.HiddenSize, "num_attention_heads × head_dim", (long)heads * headDim);
        int intermediate = fields.Int(SpecKeys.IntermediateSize) ?? Derived(SpecKeys.IntermediateSize, "hidden_size × 8 / 3", SpecDefaults.IntermediateSize(hidden));
        string? customG = fields.String(SpecKeys.CustomGType);
        return new PldrConfig(
            VocabSize: fields.Required(SpecKeys.VocabSize), HiddenSize: hidden, IntermediateSize: intermediate,
            NumHiddenLayers: fields.Required(SpecKeys.NumHiddenLayers), NumAttentionHeads: heads, HeadDim: headDim,
            MaxPositionEmbeddings: fields.Required(SpecKeys.MaxPositionEmbeddings),
            LayerNormEps: fields.FiniteDouble(SpecKeys.LayerNormEps) ?? SpecDefaults.LayerNormEps, RopeTheta: fields.FiniteDouble(SpecKeys.RopeTheta) ?? SpecDefaults.RopeTheta,
            ReferenceRope: fields.Bool(SpecKeys.ReferenceRope) ?? SpecDefaults.ReferenceRope,
            NumReslayerA: customG is null ? fields.Required(SpecKeys.NumReslayerA) : 0,
            NumDenseA: customG is null ? fields.Required(SpecKeys.NumDenseA) : 0,
            ADff: customG is null ? fields.Required(SpecKeys.ADff) : 0,
            CustomGType: customG, CacheFirstG: fields.Bool(SpecKeys.CacheFirstG) ?? SpecDefaults.CacheFirstG,
            AttentionBias: fields.Bool(SpecKeys.AttentionBias) ?? SpecDefaults.AttentionBias, GluBias: fields.Bool(SpecKeys.GluBias) ?? SpecDefaults.GluBias,
            FinalBias: fields.Bool(SpecKeys.FinalBias) ?? SpecDefaults.FinalBias);

        int Derived(string name, string formula, long value) =>
            value is > 0 and <= int.MaxValue ? (int)value
            : throw new PldrException($"{path}: {name} is missing and {formula} = {value.ToString(CultureInfo.InvariantCulture)} is not a size (1 to {int.MaxValue}); give {name}");
    }
}
