using ILGPU;
using ILGPU.Runtime;
using PldrGen.Runtime;
using PldrGen.Runtime.Engine;

namespace PldrGen.Ilgpu;

/// <summary>
/// What every generated ILGPU model shares beyond the lifecycle of <see cref="PldrModel{TSequence}"/>: its
/// accelerator, the device memory it owns (its sequence's included), the layer-shaped kernels, the slots that
/// share its device weights (<see cref="CreateSlots"/>), and (when <see cref="IlgpuDevices.Load"/> opened it) the
/// device it must release.
/// </summary>
public abstract class IlgpuModelBase : PldrModel<IlgpuSequence>, IBatchedModel, IDisposable
{
    IlgpuDevice? _ownedDevice;

    /// <param name="info">The compiled spec.</param>
    /// <param name="accelerator">Where the model's memory and kernels live.</param>
    /// <param name="checkpointG">Custom-G models: G_LM per layer [L, H, dk, dk] from the checkpoint; otherwise null.</param>
    protected IlgpuModelBase(PldrModelInfo info, Accelerator accelerator, float[]? checkpointG)
        : this(info, accelerator, new DeviceMemory(accelerator), checkpointG)
    {
    }

    IlgpuModelBase(PldrModelInfo info, Accelerator accelerator, DeviceMemory memory, float[]? checkpointG)
        : base(info, IlgpuSequence.Allocate(memory, info.Config), checkpointG)
    {
        Accelerator = accelerator;
        Memory = memory;
        LayerKernels = LayerKernels.For(accelerator);
        CheckpointG = checkpointG;
    }

    public Accelerator Accelerator { get; }
    public DeviceMemory Memory { get; }
    public LayerKernels LayerKernels { get; }

    internal float[]? CheckpointG { get; }

    /// <summary>
    /// <paramref name="count"/> slots over this model's device weights and scratch (at most max_position_embeddings,
    /// the rows the scratch holds), their KV rows, A and G-cache in one <see cref="DeviceSlots"/>; a step launches
    /// each kernel once for all its rows. Dispose the slots before this model.
    /// </summary>
    public BatchedSlots CreateSlots(int count) => new IlgpuBatchedSlots(this, count);

    /// <summary>
    /// One KV- and G-cached decode step for the rows' slots, every kernel launched once for all rows, each row with
    /// the per-thread arithmetic of this model's own <c>Decode</c>: logits [rows, V] for every row.
    /// </summary>
    protected abstract void DecodeRows(DeviceSlots slots, DeviceRows rows, ArrayView<float> logits);

    // The slot models run on this model's kernels and scratch, with their own sequences.
    internal void ForwardSlot(IlgpuSequence sequence, int start, int count, bool computeG) => Forward(sequence, start, count, computeG);
    internal void RecomputeGSlot(IlgpuSequence sequence) => RecomputeGFromFrozenA(sequence);
    internal void LmHeadSlot(int row, Span<float> logits) => LmHead(row, logits);
    internal void LmHeadsSlot(int count, Span<float> logits) => LmHeads(count, logits);
    internal void DecodeSlotRows(DeviceSlots slots, DeviceRows rows, ArrayView<float> logits) => DecodeRows(slots, rows, logits);

    /// <summary>Hands a device tensor to the probe (a copy to the host; leave the probe null for speed) when one is set.</summary>
    protected void Report(string name, int layer, ArrayView<float> values)
    {
        if (Probe is not { } probe) return;
        var host = new float[values.Length];
        DeviceMemory.Read(values, host);
        probe(name, layer, host);
    }

    internal void OwnDevice(IlgpuDevice device) => _ownedDevice = device;

    public void Dispose()
    {
        Memory.Dispose();
        _ownedDevice?.Dispose();
        _ownedDevice = null;
        GC.SuppressFinalize(this);
    }
}
