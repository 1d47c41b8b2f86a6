using System.Text.Json;

namespace PldrGen.Runtime.Checkpoints.Torch;

/// <summary>
/// The authors' training code describes a model by its <c>hpdict</c> (num_layers, d_model, num_heads, dff, A_dff,
/// num_reslayerA, num_denseA, input_vocab_size, max_seq_len); this maps such a JSON onto a Hugging Face config.json.
/// Other keys (optimizer, batch, dropout settings) describe training and are ignored.
/// </summary>
public static class AuthorsHyperparameters
{
    /// <summary>The largest hpdict JSON read: the authors' are under 2 KB.</summary>
    public const long MaxFileBytes = 1 << 20;

    public static PldrConfig Load(string path, string? customGType)
    {
        using var doc = JsonInput.Parse(InputFile.ReadAll(path, MaxFileBytes, "hpdict JSON"), path, "hpdict JSON");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new PldrException($"{path}: expected a JSON object of the authors' hpdict keys");
        var keys = new JsonFields(root, path, "hpdict key");
        int layers = Size("num_layers"), hidden = Size("d_model"), heads = Size("num_heads");
        if (heads <= 0 || hidden % heads != 0) throw new PldrException($"{path}: d_model {hidden} is not a multiple of num_heads {heads}");
        customGType ??= keys.String("custom_G_type");
        bool learned = customGType is null;
        return new PldrConfig(
            VocabSize: Size("input_vocab_size"), HiddenSize: hidden, IntermediateSize: Size("dff"), NumHiddenLayers: layers,
            NumAttentionHeads: heads, HeadDim: hidden / heads, MaxPositionEmbeddings: Size("max_seq_len"),
            LayerNormEps: 1e-6, RopeTheta: 10000, ReferenceRope: true,
            NumReslayerA: learned ? Size("num_reslayerA") : 0, NumDenseA: learned ? Size("num_denseA") : 0, ADff: learned ? Size("A_dff") : 0,
            CustomGType: customGType, CacheFirstG: false, AttentionBias: true, GluBias: true, FinalBias: true);

        int Size(string name)
        {
            int size = keys.Required(name);
            return size >= 0 ? size : throw new PldrException($"{path}: hpdict key '{name}' must be a non-negative integer, found {size}");
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
