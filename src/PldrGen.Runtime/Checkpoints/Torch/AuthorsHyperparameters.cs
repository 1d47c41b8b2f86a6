using System.Text.Json;

namespace PldrGen.Runtime.Checkpoints.Torch;

/// <summary>
/// The authors' training code describes a model by its <c>hpdict</c> (num_layers, d_model, num_heads, dff, A_dff,
/// num_reslayerA, num_denseA, input_vocab_size, max_seq_len); this maps such a JSON onto a Hugging Face config.json.
/// Other keys (optimizer, batch, dropout settings) describe training and are ignored.
/// </summary>
public static class AuthorsHyperparameters
{
    public static PldrConfig Load(string path, string? customGType)
    {
        if (!File.Exists(path)) throw new PldrException($"{path}: file not found");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new PldrException($"{path}: not valid JSON ({e.Message})"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new PldrException($"{path}: expected a JSON object of the authors' hpdict keys");
            int layers = Int("num_layers"), hidden = Int("d_model"), heads = Int("num_heads");
            if (heads <= 0 || hidden % heads != 0) throw new PldrException($"{path}: d_model {hidden} is not a multiple of num_heads {heads}");
            customGType ??= root.TryGetProperty("custom_G_type", out var g) && g.ValueKind == JsonValueKind.String ? g.GetString() : null;
            bool learned = customGType is null;
            return new PldrConfig(
                VocabSize: Int("input_vocab_size"), HiddenSize: hidden, IntermediateSize: Int("dff"), NumHiddenLayers: layers,
                NumAttentionHeads: heads, HeadDim: hidden / heads, MaxPositionEmbeddings: Int("max_seq_len"),
                LayerNormEps: 1e-6, RopeTheta: 10000, ReferenceRope: true,
                NumReslayerA: learned ? Int("num_reslayerA") : 0, NumDenseA: learned ? Int("num_denseA") : 0, ADff: learned ? Int("A_dff") : 0,
                CustomGType: customGType, CacheFirstG: false, AttentionBias: true, GluBias: true, FinalBias: true);

            int Int(string name) =>
                !root.TryGetProperty(name, out var v) ? throw new PldrException($"{path}: hpdict key '{name}' is missing")
                : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0 ? i
                : throw new PldrException($"{path}: hpdict key '{name}' must be a non-negative integer, found {v}");
        }
    }

    /// <summary>Writes <paramref name="config"/> as a pldrllm config.json (the fields PldrConfig reads, plus the HF boilerplate).</summary>
    public static void WriteConfigJson(PldrConfig config, string path)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartArray("architectures"); json.WriteStringValue("PldrllmForCausalLM"); json.WriteEndArray();
        json.WriteString("model_type", "pldrllm");
        json.WriteString("torch_dtype", "float32");
        json.WriteNumber("vocab_size", config.VocabSize);
        json.WriteNumber("hidden_size", config.HiddenSize);
        json.WriteNumber("intermediate_size", config.IntermediateSize);
        json.WriteNumber("num_hidden_layers", config.NumHiddenLayers);
        json.WriteNumber("num_attention_heads", config.NumAttentionHeads);
        json.WriteNumber("head_dim", config.HeadDim);
        json.WriteString("hidden_act", "silu");
        json.WriteNumber("max_position_embeddings", config.MaxPositionEmbeddings);
        json.WriteNumber("layer_norm_eps", config.LayerNormEps);
        json.WriteNumber("pad_token_id", 0);
        json.WriteNumber("bos_token_id", 2);
        json.WriteNumber("eos_token_id", 3);
        json.WriteBoolean("tie_word_embeddings", false);
        json.WriteNumber("rope_theta", config.RopeTheta);
        json.WriteBoolean("attention_bias", config.AttentionBias);
        json.WriteBoolean("glu_bias", config.GluBias);
        json.WriteBoolean("final_bias", config.FinalBias);
        json.WriteBoolean("reference_rope", config.ReferenceRope);
        json.WriteNumber("num_reslayerA", config.NumReslayerA);
        json.WriteNumber("num_denseA", config.NumDenseA);
        json.WriteNumber("A_dff", config.ADff);
        if (config.CustomGType is null) json.WriteNull("custom_G_type"); else json.WriteString("custom_G_type", config.CustomGType);
        json.WriteBoolean("cache_first_G", config.CacheFirstG);
        json.WriteEndObject();
    }
}
