using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Engine;

namespace PldrGen.Runtime;

/// <summary>
/// A compiled model on the CPU path: its weights can serve more sequences, and <see cref="Engine.PldrEngine"/>
/// advances all of them in one decode step that reads each weight matrix once.
/// </summary>
public interface ICpuModel : IBatchedModel
{
    ModelWeights Weights { get; }

    /// <summary>Another instance over the same weights, with its own sequence and scratch.</summary>
    ICpuModel Share();

    /// <summary>This model as slot 0 and <paramref name="count"/> − 1 <see cref="Share"/>s of it.</summary>
    BatchedSlots IBatchedModel.CreateSlots(int count) => CpuBatchDecode.Over(this, count);
}
