namespace PldrGen.Runtime.Engine;

/// <summary>
/// A model whose one copy of the weights can serve many sequences stepped together: what <see cref="PldrEngine"/>
/// needs to batch its decode steps. CPU models and the ILGPU models are both.
/// </summary>
public interface IBatchedModel : IPldrModel
{
    /// <summary>
    /// <paramref name="count"/> slots over this model's weights, each a model with its own sequence (KV rows, frozen A,
    /// G-cache), and the step that advances any of them at once. The slots may include this model itself.
    /// </summary>
    BatchedSlots CreateSlots(int count);
}

/// <summary>
/// Slots over one copy of a model's weights and the decode step that advances several of them at once. A backend
/// implements <see cref="StepRows"/>; each row must be computed exactly as that slot's own
/// <see cref="IPldrModel.Decode"/> computes it alone, so its tokens and logits do not depend on the other rows.
/// Slots may share scratch: run one slot, or one step, at a time (the engine's scheduler does).
/// </summary>
public abstract class BatchedSlots : IDisposable
{
    readonly IPldrModel[] _models;
    readonly SequenceState[] _sequences;
    readonly bool[] _inStep;

    /// <param name="models">The slot models.</param>
    /// <param name="sequences">Each slot model's sequence, in the same order.</param>
    protected BatchedSlots(IPldrModel[] models, SequenceState[] sequences)
    {
        if (models.Length == 0 || models.Length != sequences.Length)
            throw new ArgumentException($"{models.Length} slot models and {sequences.Length} sequences: give one sequence per model, at least one", nameof(sequences));
        _models = models;
        _sequences = sequences;
        _inStep = new bool[models.Length];
        Info = models[0].Info;
    }

    public PldrModelInfo Info { get; }

    /// <summary>The slot models, each running one sequence (prefill, G-cache) over the shared weights.</summary>
    public IReadOnlyList<IPldrModel> Models => _models;

    /// <summary>Each slot model's sequence, by slot.</summary>
    protected IReadOnlyList<SequenceState> Sequences => _sequences;

    /// <summary>Bytes of run state each slot adds (its KV rows, A/G-cache, tokens and its share of the step buffers).</summary>
    public abstract long BytesPerSlot { get; }

    /// <summary>
    /// One KV- and G-cached decode step: slot <c>slots[b]</c> appends <c>tokens[b]</c> at its own position and row b
    /// of <paramref name="logits"/> [rows, V] gets the logits of that position.
    /// </summary>
    public void Step(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        var config = Info.Config;
        int rows = slots.Length, vocab = config.VocabSize;
        if (tokens.Length != rows) throw new ArgumentException($"{rows} slots but {tokens.Length} tokens: give one token per slot", nameof(tokens));
        if (logits.Length < (long)rows * vocab) throw new ArgumentException($"logits holds {logits.Length} floats; {rows} rows × {vocab} are needed", nameof(logits));
        Array.Clear(_inStep);
        for (int b = 0; b < rows; b++) CheckRow(slots[b], tokens[b]);
        StepRows(slots, tokens, logits[..(rows * vocab)]);
        foreach (int slot in slots) _sequences[slot].Position++;
    }

    /// <summary>
    /// Computes the step <see cref="Step"/> has checked: every slot distinct, prefilled, with room for one more
    /// position, cached, every token in the vocabulary. Positions move on after it returns.
    /// </summary>
    protected abstract void StepRows(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, Span<float> logits);

    void CheckRow(int slot, int token)
    {
        if ((uint)slot >= (uint)_models.Length) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"there are {_models.Length} slots");
        if (_inStep[slot]) throw new ArgumentException($"slot {slot} appears twice in one step", nameof(slot));
        _inStep[slot] = true;
        var model = _models[slot];
        int position = _sequences[slot].Position, context = Info.Config.MaxPositionEmbeddings;
        if (position == 0) throw new InvalidOperationException($"slot {slot} has no prefilled prompt: call Prefill on it first");
        if (position >= context)
            throw new PldrException($"slot {slot}: position {position} is past the context of {Info.Name} ({context} positions, max_position_embeddings)");
        if (!model.UseKvCache || (!model.UseGCache && Info.Config.LearnedG && !_sequences[slot].GInjected))
            throw new InvalidOperationException($"slot {slot} runs without the KV- or G-cache; a batched step is KV- and G-cached: decode it alone");
        if ((uint)token >= (uint)Info.Config.VocabSize)
            throw new PldrException($"token id {token} is outside the vocabulary of {Info.Name} (0..{Info.Config.VocabSize - 1})");
    }

    /// <summary>Frees what the slots hold beyond their models; the model the slots were made from stays its caller's.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
