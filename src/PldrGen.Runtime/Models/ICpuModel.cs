using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Runtime;

/// <summary>
/// A compiled model on the CPU path: its weights can serve more sequences, and <see cref="Engine.PldrEngine"/>
/// advances all of them in one decode step that reads each weight matrix once.
/// </summary>
public interface ICpuModel : IPldrModel
{
    ModelWeights Weights { get; }

    /// <summary>Another instance over the same weights, with its own sequence and scratch.</summary>
    ICpuModel Share();
}
