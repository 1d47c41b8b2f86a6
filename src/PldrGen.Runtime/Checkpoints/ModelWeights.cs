using PldrGen.Runtime.Kernels;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>All weights of a pldrllm checkpoint in memory, as <see cref="PldrTensors.ReadWeights"/> reads them.</summary>
public sealed record ModelWeights(
    WeightMatrix Embedding,          // [V, D]
    NormWeights InputNorm,           // decoder.layernorm1 [D]
    DecoderLayerWeights[] Layers,
    LinearWeights Output,            // final_layer [V, D]
    float[]? CheckpointG);           // custom-G only: G_LM per layer [L, H, dk, dk] from decoder.past_G_values

/// <summary>One decoder layer's weights.</summary>
public sealed record DecoderLayerWeights(
    LinearWeights Query, LinearWeights Key, LinearWeights Value, LinearWeights Dense, // each [D, D]
    NormWeights MetricNorm,          // mha1.layernorm1 [dk]; empty for custom-G models
    ResBlockWeights[] MetricLearner, // R blocks of N GLUs dk→Fa→dk
    PlgaWeights? Plga,               // [H, dk, dk] each; null for custom-G models
    GluWeights FeedForward,          // D→F→D
    NormWeights Norm1, NormWeights Norm2); // [D]
