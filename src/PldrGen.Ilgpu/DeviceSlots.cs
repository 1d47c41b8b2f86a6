using ILGPU;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Ilgpu;

/// <summary>
/// The run state of S sequences in one device buffer per cache, slot-major (slot s's [L, P, D] keys start at
/// s·<see cref="CacheStride"/>), so one kernel launch reaches every slot; each slot is an <see cref="IlgpuSequence"/>
/// over its part. Kernels index these buffers with 32-bit ints, so their lengths stay below 2³¹.
/// </summary>
public sealed class DeviceSlots
{
    readonly IlgpuSequence[] _sequences;

    /// <summary>Allocates <paramref name="count"/> slots of the spec's context in <paramref name="memory"/>.</summary>
    internal DeviceSlots(DeviceMemory memory, PldrConfig c, int count)
    {
        LayerCacheSize = checked(c.MaxPositionEmbeddings * c.HiddenSize);
        LayerGSize = checked(c.NumAttentionHeads * c.HeadDim * c.HeadDim);
        long cache = (long)c.NumHiddenLayers * LayerCacheSize, g = (long)c.NumHiddenLayers * LayerGSize;
        if (Math.Max(cache, g) * count > int.MaxValue)
            throw new PldrException($"{count} slots of {c.NumHiddenLayers} layers × {c.MaxPositionEmbeddings} positions × {c.HiddenSize} need {Math.Max(cache, g) * count} floats in one cache buffer; the ILGPU kernels index at most {int.MaxValue}: use fewer slots");
        Count = count;
        CacheStride = (int)cache;
        GStride = (int)g;
        TokenStride = c.MaxPositionEmbeddings;
        Tokens = memory.Ints((long)count * TokenStride);
        Keys = memory.Floats((long)count * CacheStride);
        Values = memory.Floats((long)count * CacheStride);
        A = memory.Floats((long)count * GStride);
        ALm = memory.Floats((long)count * GStride);
        G = memory.Floats((long)count * GStride);
        _sequences = [.. Enumerable.Range(0, count).Select(s => new IlgpuSequence(this, s))];
    }

    public int Count { get; }

    /// <summary>Floats from one slot's keys, values, to the next's; likewise for A, A_LM, G_LM, and ints for tokens.</summary>
    public int CacheStride { get; }
    public int GStride { get; }
    public int TokenStride { get; }

    /// <summary>[S, P] every slot's tokens.</summary>
    public ArrayView<int> Tokens { get; }
    /// <summary>[S, L, P, D] keys after RoPE, and values.</summary>
    public ArrayView<float> Keys { get; }
    public ArrayView<float> Values { get; }
    /// <summary>[S, L, H, dk, dk] A (frozen after prefill), A_LM, G_LM.</summary>
    public ArrayView<float> A { get; }
    public ArrayView<float> ALm { get; }
    public ArrayView<float> G { get; }

    public IlgpuSequence this[int slot] => _sequences[slot];

    /// <summary>Layer l of every slot: from slot 0's layer l on, so slot s's row p is at s·CacheStride + p·D.</summary>
    public ArrayView<float> LayerKeys(int l) => Keys.SubView((long)l * LayerCacheSize);
    public ArrayView<float> LayerValues(int l) => Values.SubView((long)l * LayerCacheSize);
    /// <summary>Layer l's G_LM of every slot: slot s's head h at s·GStride + h·dk·dk.</summary>
    public ArrayView<float> LayerG(int l) => G.SubView((long)l * LayerGSize);

    /// <summary>Floats of one layer's keys (P·D) and of one layer's G_LM (H·dk·dk).</summary>
    internal int LayerCacheSize { get; }
    internal int LayerGSize { get; }

    internal ArrayView<float> SlotKeys(int slot) => Keys.SubView((long)slot * CacheStride, CacheStride);
    internal ArrayView<float> SlotValues(int slot) => Values.SubView((long)slot * CacheStride, CacheStride);
    internal ArrayView<float> SlotA(int slot) => A.SubView((long)slot * GStride, GStride);
    internal ArrayView<float> SlotALm(int slot) => ALm.SubView((long)slot * GStride, GStride);
    internal ArrayView<float> SlotG(int slot) => G.SubView((long)slot * GStride, GStride);
    internal ArrayView<int> SlotTokens(int slot) => Tokens.SubView((long)slot * TokenStride, TokenStride);
}

/// <summary>
/// One batched decode step's rows on the device: row b is slot Slots[b] taking token Tokens[b] at position
/// Positions[b]; <see cref="Count"/> rows.
/// </summary>
public readonly record struct DeviceRows(ArrayView<int> Slots, ArrayView<int> Positions, ArrayView<int> Tokens, int Count);
