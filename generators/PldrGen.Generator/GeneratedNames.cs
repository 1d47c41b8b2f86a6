using System;
using System.Collections.Generic;

namespace PldrGen.Generator;

/// <summary>
/// The names the emitted code takes for itself or uses without qualification: a spec's class_name or namespace
/// segment that equals one would not compile (CS0542) or would hide the type the code means. The emitters and
/// these lists change together; CollisionTests compile every identifier of the CPU output as a class name.
/// </summary>
static class GeneratedNames
{
    /// <summary>Appended to the class name for the ILGPU model of a spec.</summary>
    public const string IlgpuSuffix = "Ilgpu";

    /// <summary>Members of a generated model class and of the runtime base class it extends.</summary>
    public static readonly HashSet<string> Members = new(StringComparer.Ordinal)
    {
        // PldrGenerator.Emitter.cs
        "VocabSize", "HiddenSize", "IntermediateSize", "Layers", "Heads", "HeadDim", "MaxPositions", "MetricResBlocks",
        "MetricGluLayers", "MetricHidden", "LayerNormEps", "RopeTheta", "InterleavedRope", "LearnedG", "EndToken",
        "Config", "ModelInfo", "TensorManifest", "Load", "Scratch", "EmbeddingScale", "Rope", "Weights", "Forward",
        "ForwardEmbedding", "ForwardLayer",
        "MetricLearner", "RecomputeGFromFrozenA", "LmHead", "LmHeads", "Share", "_weights", "_scratch",
        // PldrGen.Runtime.PldrModel<TSequence> and LayeredPldrModel<TSequence>
        "Info", "Sequence", "Position", "UseKvCache", "UseGCache", "Probe", "Reset", "Prefill", "Decode",
        "CaptureGCache", "InjectGCache", "ClearInjectedGCache",
    };

    /// <summary>Types the CPU and ILGPU models name without a namespace (their usings: System, the runtime, ILGPU).</summary>
    public static readonly HashSet<string> Types = new(StringComparer.Ordinal)
    {
        // System
        "Span", "ReadOnlySpan", "IReadOnlyList", "IProgress", "Math", "MathF", "Array", "Action",
        // PldrGen.Runtime
        "PldrModel", "LayeredPldrModel", "CpuSequence", "ICpuModel", "PldrConfig", "PldrModelInfo", "PldrException", "TensorShape", "PldrTensors",
        "Checkpoint", "CheckpointProgress", "WeightPrecision", "ModelWeights", "RopeTable", "CpuKernels", "GCache",
        // PldrGen.Ilgpu and ILGPU
        "IlgpuModelBase", "IlgpuModelCatalog", "IlgpuSequence", "LayerKernels", "DeviceMemory", "DeviceLinear",
        "DeviceNorm", "DeviceGlu", "DevicePlga", "GroupReduce", "Accelerator", "ArrayView", "KernelConfig", "Grid",
        "Group", "SharedMemory", "XMath",
    };
}
