using ILGPU;
using PldrGen.Runtime;
using PldrGen.Runtime.Engine;

namespace PldrGen.Ilgpu;

/// <summary>
/// Slots over one ILGPU model: their state in one <see cref="DeviceSlots"/> of their own memory, the model's
/// weights, kernels and scratch shared. A step uploads the rows (slot, position, token) in one copy, launches the
/// model's <c>DecodeRows</c> and downloads every row's logits in one copy.
/// </summary>
sealed class IlgpuBatchedSlots : BatchedSlots
{
    readonly IlgpuModelBase _model;
    readonly DeviceMemory _memory;
    readonly DeviceSlots _slots;
    readonly ArrayView<int> _rows;       // [3, S]: slots, positions, tokens of a step's rows
    readonly ArrayView<float> _logits;   // [S, V]
    readonly int[] _hostRows;

    IlgpuBatchedSlots(IlgpuModelBase model, DeviceMemory memory, DeviceSlots slots)
        : base([.. Enumerable.Range(0, slots.Count).Select(s => new IlgpuSlotModel(model, slots[s]))],
            [.. Enumerable.Range(0, slots.Count).Select(s => slots[s])])
    {
        _model = model;
        _memory = memory;
        _slots = slots;
        _rows = memory.Ints(3L * slots.Count);
        _logits = memory.Floats((long)slots.Count * model.Info.Config.VocabSize);
        _hostRows = new int[3 * slots.Count];
    }

    public IlgpuBatchedSlots(IlgpuModelBase model, int count) : this(model, Allocate(model, count, out var slots), slots)
    {
    }

    static DeviceMemory Allocate(IlgpuModelBase model, int count, out DeviceSlots slots)
    {
        int context = model.Info.Config.MaxPositionEmbeddings;
        if (count < 1 || count > context)
            throw new PldrException($"{model.Info.Name} on ILGPU: {count} slots; give 1 to {context} (a step's rows live in the model's scratch, which holds max_position_embeddings rows)");
        var memory = new DeviceMemory(model.Accelerator);
        try
        {
            slots = new DeviceSlots(memory, model.Info.Config, count);
            return memory;
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>Device bytes of the slots' state, step rows and logits, per slot (the weights and scratch are the model's).</summary>
    public override long BytesPerSlot => _memory.Bytes / _slots.Count;

    protected override void StepRows(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int rows = slots.Length;
        var host = _hostRows.AsSpan(0, 3 * rows);
        for (int b = 0; b < rows; b++) (host[b], host[rows + b], host[2 * rows + b]) = (slots[b], _slots[slots[b]].Position, tokens[b]);
        var device = _rows.SubView(0, 3 * rows);
        DeviceMemory.Write(device, host);
        var deviceLogits = _logits.SubView(0, logits.Length);
        _model.DecodeSlotRows(_slots, new DeviceRows(device.SubView(0, rows), device.SubView(rows, rows), device.SubView(2 * rows, rows), rows), deviceLogits);
        DeviceMemory.Read(deviceLogits, logits);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _memory.Dispose();
    }
}

/// <summary>One slot of <see cref="IlgpuBatchedSlots"/>: the lifecycle over its own sequence, the forward pass its model's.</summary>
sealed class IlgpuSlotModel(IlgpuModelBase model, IlgpuSequence sequence) : PldrModel<IlgpuSequence>(model.Info, sequence, model.CheckpointG)
{
    protected override void Forward(IlgpuSequence sequence, int start, int count, bool computeG) => model.ForwardSlot(sequence, start, count, computeG);
    protected override void RecomputeGFromFrozenA(IlgpuSequence sequence) => model.RecomputeGSlot(sequence);
    protected override void LmHead(int row, Span<float> logits) => model.LmHeadSlot(row, logits);
    protected override void LmHeads(int count, Span<float> logits) => model.LmHeadsSlot(count, logits);
}
