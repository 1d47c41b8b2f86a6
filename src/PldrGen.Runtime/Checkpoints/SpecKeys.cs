// Linked source: compiled into PldrGen.Runtime (which reads config.json) and into the generator (which reads specs,
// netstandard2.0), so the two can never spell a key or a default differently.
namespace PldrGen;

/// <summary>Every key of a spec, named like the Hugging Face pldrllm config.json (plus class_name and namespace).</summary>
internal static class SpecKeys
{
    public const string ClassName = "class_name";
    public const string Namespace = "namespace";
    public const string VocabSize = "vocab_size";
    public const string HiddenSize = "hidden_size";
    public const string IntermediateSize = "intermediate_size";
    public const string NumHiddenLayers = "num_hidden_layers";
    public const string NumAttentionHeads = "num_attention_heads";
    public const string HeadDim = "head_dim";
    public const string MaxPositionEmbeddings = "max_position_embeddings";
    public const string LayerNormEps = "layer_norm_eps";
    public const string RopeTheta = "rope_theta";
    public const string ReferenceRope = "reference_rope";
    public const string NumReslayerA = "num_reslayerA";
    public const string NumDenseA = "num_denseA";
    public const string ADff = "A_dff";
    public const string CustomGType = "custom_G_type";
    public const string CacheFirstG = "cache_first_G";
    public const string AttentionBias = "attention_bias";
    public const string GluBias = "glu_bias";
    public const string FinalBias = "final_bias";
    public const string EosTokenId = "eos_token_id";
}

/// <summary>
/// The value of an optional key that is absent, as the authors' config applies it. head_dim defaults to
/// hidden_size / num_attention_heads and hidden_size to num_attention_heads · head_dim.
/// </summary>
internal static class SpecDefaults
{
    public const string Namespace = "PldrGen.Models";
    public const double LayerNormEps = 1e-6;
    public const double RopeTheta = 10000;
    public const bool ReferenceRope = true;
    public const bool CacheFirstG = false;
    public const bool AttentionBias = true;
    public const bool GluBias = true;
    public const bool FinalBias = true;
    public const int EosTokenId = 3;

    /// <summary>intermediate_size: hidden_size · 8/3, rounded down (in long, so a large hidden_size cannot wrap).</summary>
    public static long IntermediateSize(long hiddenSize) => hiddenSize * 8 / 3;
}
