using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Runtime;

/// <summary>
/// The lifecycle of a compiled model, written once for every backend: the position, the two cache switches, both
/// <c>Prefill</c> overloads, <c>Decode</c>, the token checks and the G-cache capture, injection and restore. A
/// generated model implements only what its shape decides: the forward pass, G from the frozen A, and the LM head.
/// </summary>
/// <remarks>
/// The state of the one sequence it runs is a <typeparamref name="TSequence"/> apart from the scratch the forward pass
/// shares, and every step names the sequence it advances, so an engine can hold several sequences over one model.
/// </remarks>
public abstract class PldrModel<TSequence> : IPldrModel where TSequence : SequenceState
{
    readonly float[]? _checkpointG;
    readonly float[] _logits;

    /// <param name="info">The compiled spec.</param>
    /// <param name="sequence">The state of the sequence this model runs.</param>
    /// <param name="checkpointG">Custom-G models: G_LM per layer [L, H, dk, dk] from the checkpoint; otherwise null.</param>
    protected PldrModel(PldrModelInfo info, TSequence sequence, float[]? checkpointG)
    {
        Info = info;
        Sequence = sequence;
        _checkpointG = checkpointG;
        _logits = new float[info.Config.VocabSize];
        RestoreCheckpointG();
    }

    public PldrModelInfo Info { get; }

    /// <summary>The sequence this model runs.</summary>
    protected TSequence Sequence { get; }

    /// <summary>The engine's view of <see cref="Sequence"/>: its batched decode steps advance it directly.</summary>
    internal TSequence CurrentSequence => Sequence;

    public int Position => Sequence.Position;
    public bool UseKvCache { get; set; } = true;
    public bool UseGCache { get; set; } = true;
    public TensorProbe? Probe { get; set; }

    PldrConfig Config => Info.Config;

    public void Reset() => Sequence.Position = 0;

    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
    {
        StartSequence(tokens);
        Forward(Sequence, 0, tokens.Length, PrefillComputesG);
        return PromptLogits();
    }

    public void Prefill(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int vocab = Config.VocabSize;
        if (logits.Length != (long)tokens.Length * vocab)
            throw new ArgumentException($"logits holds {logits.Length} floats; {tokens.Length} positions × {vocab} are needed", nameof(logits));
        StartSequence(tokens);
        Forward(Sequence, 0, tokens.Length, PrefillComputesG);
        LmHeads(tokens.Length, logits);
    }

    public ReadOnlySpan<float> Decode(int token)
    {
        var sequence = Sequence;
        int position = sequence.Position;
        if (position == 0) throw new InvalidOperationException("Decode needs a prefilled prompt: call Prefill first");
        if (position >= Config.MaxPositionEmbeddings)
            throw new PldrException($"position {position} is past the context of {Info.Name} ({Config.MaxPositionEmbeddings} positions, max_position_embeddings)");
        CheckToken(token);
        sequence.WriteTokens(position, new ReadOnlySpan<int>(in token));
        bool recomputeG = Config.LearnedG && !sequence.GInjected && !UseGCache;
        if (!UseKvCache)
        {
            // No KV-cache: re-run the whole growing sequence; A (and G, without the G-cache) follow the input.
            Forward(sequence, 0, position + 1, computeG: recomputeG);
            sequence.Position = position + 1;
            LmHead(position, _logits);
            return _logits;
        }
        if (recomputeG) RecomputeGFromFrozenA(sequence);
        Forward(sequence, position, 1, computeG: false);
        sequence.Position = position + 1;
        LmHead(0, _logits);
        return _logits;
    }

    public GCache CaptureGCache()
    {
        var copy = new GCache(Config.NumHiddenLayers, Config.NumAttentionHeads, Config.HeadDim);
        Sequence.ReadGCache(copy);
        return copy;
    }

    public void InjectGCache(GCache cache)
    {
        cache.EnsureShape(Config.NumHiddenLayers, Config.NumAttentionHeads, Config.HeadDim, Info.Name);
        Sequence.WriteGCache(cache);
        Sequence.GInjected = true;
    }

    public void ClearInjectedGCache()
    {
        Sequence.GInjected = false;
        RestoreCheckpointG();
    }

    /// <summary>Runs positions start..start+count−1 of <paramref name="sequence"/> (tokens already stored) through every layer.</summary>
    protected abstract void Forward(TSequence sequence, int start, int count, bool computeG);

    /// <summary>KV-cache without G-cache: G_LM again from the frozen A of every layer. Learned-G models only.</summary>
    protected virtual void RecomputeGFromFrozenA(TSequence sequence) =>
        throw new InvalidOperationException("a custom-G model has no metric learner");

    /// <summary>logits [V] = final_layer(x[row]) of the last forward pass.</summary>
    protected abstract void LmHead(int row, Span<float> logits);

    /// <summary>logits [count, V] of every row of the last forward pass.</summary>
    protected virtual void LmHeads(int count, Span<float> logits)
    {
        int vocab = Config.VocabSize;
        for (int row = 0; row < count; row++) LmHead(row, logits.Slice(row * vocab, vocab));
    }

    /// <summary>A prefill learns G unless the model's G is custom or injected.</summary>
    private protected bool PrefillComputesG => Config.LearnedG && !Sequence.GInjected;

    /// <summary>The logits after the prompt's last position, once a prefill's forward pass is done.</summary>
    private protected ReadOnlySpan<float> PromptLogits()
    {
        LmHead(Sequence.Position - 1, _logits);
        return _logits;
    }

    /// <summary>Checks and stores a prompt as the sequence's start.</summary>
    private protected void StartSequence(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length == 0) throw new PldrException("the prompt is empty: give at least one token (an empty text prompt is the single token [END])");
        if (tokens.Length > Config.MaxPositionEmbeddings)
            throw new PldrException($"the prompt has {tokens.Length} tokens, more than the {Config.MaxPositionEmbeddings} positions of {Info.Name} (max_position_embeddings)");
        foreach (int token in tokens) CheckToken(token);
        Sequence.WriteTokens(0, tokens);
        Sequence.Position = tokens.Length;
    }

    void CheckToken(int token)
    {
        if ((uint)token >= (uint)Config.VocabSize)
            throw new PldrException($"token id {token} is outside the vocabulary of {Info.Name} (0..{Config.VocabSize - 1})");
    }

    void RestoreCheckpointG()
    {
        if (_checkpointG is { } g) Sequence.WriteG(g);
    }
}
