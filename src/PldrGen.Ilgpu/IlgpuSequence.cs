using ILGPU;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Ilgpu;

/// <summary>
/// One sequence of an ILGPU model, resident on the device: tokens, KV-cache and the G-cache slot, one slot of a
/// <see cref="DeviceSlots"/>.
/// </summary>
public sealed class IlgpuSequence : SequenceState
{
    readonly int _layerCacheSize, _layerGSize;

    internal IlgpuSequence(DeviceSlots slots, int slot)
    {
        (_layerCacheSize, _layerGSize) = (slots.LayerCacheSize, slots.LayerGSize);
        Tokens = slots.SlotTokens(slot);
        Keys = slots.SlotKeys(slot);
        Values = slots.SlotValues(slot);
        A = slots.SlotA(slot);
        ALm = slots.SlotALm(slot);
        G = slots.SlotG(slot);
    }

    /// <summary>Allocates a sequence of the spec's context in <paramref name="memory"/>, which it frees on failure.</summary>
    internal static IlgpuSequence Allocate(DeviceMemory memory, PldrConfig config)
    {
        try
        {
            return new DeviceSlots(memory, config, 1)[0];
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>[P] the sequence so far.</summary>
    public ArrayView<int> Tokens { get; }
    /// <summary>[L, P, D] keys after RoPE, and values.</summary>
    public ArrayView<float> Keys { get; }
    public ArrayView<float> Values { get; }
    /// <summary>[L, H, dk, dk] the G-cache slot: A (frozen after prefill), A_LM, G_LM.</summary>
    public ArrayView<float> A { get; }
    public ArrayView<float> ALm { get; }
    public ArrayView<float> G { get; }

    public ArrayView<float> LayerKeys(int l) => Keys.SubView((long)l * _layerCacheSize, _layerCacheSize);
    public ArrayView<float> LayerValues(int l) => Values.SubView((long)l * _layerCacheSize, _layerCacheSize);
    public ArrayView<float> LayerA(int l) => A.SubView((long)l * _layerGSize, _layerGSize);
    public ArrayView<float> LayerALm(int l) => ALm.SubView((long)l * _layerGSize, _layerGSize);
    public ArrayView<float> LayerG(int l) => G.SubView((long)l * _layerGSize, _layerGSize);

    protected override void WriteTokens(int start, ReadOnlySpan<int> tokens) => DeviceMemory.Write(Tokens.SubView(start, tokens.Length), tokens);

    protected override void ReadGCache(GCache destination)
    {
        DeviceMemory.Read(A, destination.A);
        DeviceMemory.Read(ALm, destination.ALm);
        DeviceMemory.Read(G, destination.G);
    }

    protected override void WriteGCache(GCache source)
    {
        DeviceMemory.Write(A, source.A);
        DeviceMemory.Write(ALm, source.ALm);
        DeviceMemory.Write(G, source.G);
    }

    protected override void WriteG(ReadOnlySpan<float> g) => DeviceMemory.Write(G, g);
}
