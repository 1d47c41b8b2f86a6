using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Runtime;

/// <summary>One sequence of a CPU model in host memory, allocated once for the spec's context.</summary>
public sealed class CpuSequence : SequenceState
{
    readonly int _layerCacheSize;

    public CpuSequence(PldrConfig config)
    {
        _layerCacheSize = checked(config.MaxPositionEmbeddings * config.HiddenSize);
        Tokens = new int[config.MaxPositionEmbeddings];
        KeyCache = new float[checked(config.NumHiddenLayers * _layerCacheSize)];
        ValueCache = new float[KeyCache.Length];
        G = new GCache(config.NumHiddenLayers, config.NumAttentionHeads, config.HeadDim);
    }

    /// <summary>[P] the sequence so far.</summary>
    public int[] Tokens { get; }
    /// <summary>[L, P, D] keys after RoPE.</summary>
    public float[] KeyCache { get; }
    /// <summary>[L, P, D] values.</summary>
    public float[] ValueCache { get; }
    /// <summary>The G-cache slot: A (frozen after prefill), A_LM, G_LM [L, H, dk, dk].</summary>
    public GCache G { get; }

    /// <summary>Layer l's keys [P, D].</summary>
    public Span<float> LayerKeys(int l) => KeyCache.AsSpan(l * _layerCacheSize, _layerCacheSize);
    /// <summary>Layer l's values [P, D].</summary>
    public Span<float> LayerValues(int l) => ValueCache.AsSpan(l * _layerCacheSize, _layerCacheSize);

    protected internal override void WriteTokens(int start, ReadOnlySpan<int> tokens) => tokens.CopyTo(Tokens.AsSpan(start));

    protected internal override void ReadGCache(GCache destination) => Copy(G, destination);

    protected internal override void WriteGCache(GCache source) => Copy(source, G);

    protected internal override void WriteG(ReadOnlySpan<float> g) => g.CopyTo(G.G);

    static void Copy(GCache from, GCache to)
    {
        // Span to array: array.CopyTo(array) is ambiguous (Span or Memory) before C# 14.
        from.A.AsSpan().CopyTo(to.A);
        from.ALm.AsSpan().CopyTo(to.ALm);
        from.G.AsSpan().CopyTo(to.G);
    }
}
