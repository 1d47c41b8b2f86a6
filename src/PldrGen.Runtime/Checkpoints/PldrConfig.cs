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
        yield return ("vocab_size", Int(VocabSize));
        yield return ("hidden_size", Int(HiddenSize));
        yield return ("intermediate_size", Int(IntermediateSize));
        yield return ("num_hidden_layers", Int(NumHiddenLayers));
        yield return ("num_attention_heads", Int(NumAttentionHeads));
        yield return ("head_dim", Int(HeadDim));
        yield return ("max_position_embeddings", Int(MaxPositionEmbeddings));
        yield return ("layer_norm_eps", Num(LayerNormEps));
        yield return ("rope_theta", Num(RopeTheta));
        yield return ("reference_rope", Bool(ReferenceRope));
        yield return ("num_reslayerA", Int(NumReslayerA));
        yield return ("num_denseA", Int(NumDenseA));
        yield return ("A_dff", Int(ADff));
        yield return ("custom_G_type", CustomGType ?? "null");
        yield return ("attention_bias", Bool(AttentionBias));
        yield return ("glu_bias", Bool(GluBias));
        yield return ("final_bias", Bool(FinalBias));
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
        if (root.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String && mt.GetString() != "pldrllm")
            throw new PldrException($"{path}: model_type is '{mt.GetString()}', expected 'pldrllm'");

        int heads = RequiredInt("num_attention_heads");
        if (heads <= 0) throw new PldrException($"{path}: num_attention_heads must be positive, found {heads}");
        int headDim = OptionalInt("head_dim") ?? RequiredInt("hidden_size") / heads;
        // Derived sizes in 64 bits: in int, 2 heads of 2^30 channels would wrap to a negative hidden_size.
        int hidden = OptionalInt("hidden_size") ?? Derived("hidden_size", "num_attention_heads × head_dim", (long)heads * headDim);
        int intermediate = OptionalInt("intermediate_size") ?? Derived("intermediate_size", "hidden_size × 8 / 3", (long)hidden * 8 / 3);
        string? customG = root.TryGetProperty("custom_G_type", out var cg) && cg.ValueKind == JsonValueKind.String ? cg.GetString() : null;
        return new PldrConfig(
            VocabSize: RequiredInt("vocab_size"), HiddenSize: hidden, IntermediateSize: intermediate,
            NumHiddenLayers: RequiredInt("num_hidden_layers"), NumAttentionHeads: heads, HeadDim: headDim,
            MaxPositionEmbeddings: RequiredInt("max_position_embeddings"),
            LayerNormEps: OptionalDouble("layer_norm_eps") ?? 1e-6, RopeTheta: OptionalDouble("rope_theta") ?? 10000,
            ReferenceRope: OptionalBool("reference_rope") ?? true,
            NumReslayerA: customG is null ? RequiredInt("num_reslayerA") : 0,
            NumDenseA: customG is null ? RequiredInt("num_denseA") : 0,
            ADff: customG is null ? RequiredInt("A_dff") : 0,
            CustomGType: customG, CacheFirstG: OptionalBool("cache_first_G") ?? false,
            AttentionBias: OptionalBool("attention_bias") ?? true, GluBias: OptionalBool("glu_bias") ?? true,
            FinalBias: OptionalBool("final_bias") ?? true);

        int Derived(string name, string formula, long value) =>
            value is > 0 and <= int.MaxValue ? (int)value
            : throw new PldrException($"{path}: {name} is missing and {formula} = {value.ToString(CultureInfo.InvariantCulture)} is not a size (1 to {int.MaxValue}); give {name}");
        int RequiredInt(string name) => OptionalInt(name) ?? throw new PldrException($"{path}: required field '{name}' is missing");
        int? OptionalInt(string name) =>
            !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
            : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i
            : throw new PldrException($"{path}: field '{name}' must be an integer, found {v}");
        double? OptionalDouble(string name) =>
            !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
            : v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d) ? d
            : throw new PldrException($"{path}: field '{name}' must be a finite number, found {v}");
        bool? OptionalBool(string name) =>
            !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
            : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
            : throw new PldrException($"{path}: field '{name}' must be true or false, found {v}");
    }
}
