using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Runtime;

/// <summary>
/// What one sequence owns, apart from the scratch a forward pass shares: its tokens, KV-cache rows, frozen A and
/// G-cache slot, where it stands and whether its G was injected. Each backend keeps these where its kernels read them
/// (host arrays, device buffers); <see cref="PldrModel{TSequence}"/> runs the lifecycle on top.
/// </summary>
public abstract class SequenceState
{
    /// <summary>Tokens held in the caches (the position the next decoded token takes).</summary>
    public int Position { get; internal set; }

    /// <summary>True while an injected G-cache stands in for the metric learner.</summary>
    public bool GInjected { get; internal set; }

    /// <summary>Stores tokens at positions start.. of this sequence.</summary>
    protected internal abstract void WriteTokens(int start, ReadOnlySpan<int> tokens);

    /// <summary>Copies this sequence's G-cache slot (A, A_LM, G_LM per layer) into <paramref name="destination"/>.</summary>
    protected internal abstract void ReadGCache(GCache destination);

    /// <summary>Fills this sequence's G-cache slot from <paramref name="source"/>, already checked to fit.</summary>
    protected internal abstract void WriteGCache(GCache source);

    /// <summary>Sets G_LM alone (every layer, [L, H, dk, dk]): a custom-G checkpoint's G.</summary>
    protected internal abstract void WriteG(ReadOnlySpan<float> g);
}
