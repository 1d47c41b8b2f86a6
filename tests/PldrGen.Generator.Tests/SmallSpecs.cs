namespace PldrGen.Generator.Tests;

/// <summary>
/// The small valid specs the tests start from and edit line by line. <see cref="LearnedG"/>'s lines: 0 class_name,
/// 1 vocab_size, 2 num_hidden_layers, 3 num_attention_heads, 4 head_dim, 5 max_position_embeddings, 6 num_reslayerA,
/// 7 num_denseA, 8 A_dff; <see cref="CustomG"/>'s lines 0–5 are the same keys, 6 custom_G_type.
/// </summary>
static class SmallSpecs
{
    const string Dimensions = """
        vocab_size: 256
        num_hidden_layers: 2
        num_attention_heads: 4
        head_dim: 16
        max_position_embeddings: 64
        """;

    /// <summary>A learned-G model's shape without its class_name, for tests that name the class themselves.</summary>
    public const string LearnedGShape = Dimensions + "\nnum_reslayerA: 2\nnum_denseA: 2\nA_dff: 24";

    public const string LearnedG = "class_name: Tiny\n" + LearnedGShape;
    public const string CustomG = "class_name: TinyG\n" + Dimensions + "\ncustom_G_type: identity";
}
