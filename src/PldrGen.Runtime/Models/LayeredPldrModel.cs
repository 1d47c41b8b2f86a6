namespace PldrGen.Runtime;

/// <summary>
/// A compiled model whose forward pass is the embedding and then one layer after another (the CPU path), so a prompt
/// can be prefilled in stages: <see cref="Engine.PldrEngine"/> runs a few layers of a waiting prompt between two
/// decode steps and running streams never wait for a whole prefill. Layer l needs only layer l − 1's output over
/// every prompt position (PLDR's G needs them all, so a prompt cannot be split by position), and the stages are the
/// very calls a whole <c>Prefill</c> makes, in its order, on the same scratch: logits and G-cache are bit-identical.
/// </summary>
public abstract class LayeredPldrModel<TSequence> : PldrModel<TSequence> where TSequence : SequenceState
{
    /// <inheritdoc cref="PldrModel{TSequence}(PldrModelInfo, TSequence, float[])"/>
    protected LayeredPldrModel(PldrModelInfo info, TSequence sequence, float[]? checkpointG) : base(info, sequence, checkpointG)
    {
    }

    protected sealed override void Forward(TSequence sequence, int start, int count, bool computeG)
    {
        ForwardEmbedding(sequence, start, count);
        for (int layer = 0; layer < Info.Config.NumHiddenLayers; layer++) ForwardLayer(sequence, layer, start, count, computeG);
    }

    /// <summary>The input of the first layer for positions start..start+count−1 (tokens already stored).</summary>
    protected abstract void ForwardEmbedding(TSequence sequence, int start, int count);

    /// <summary>Layer <paramref name="layer"/> over positions start..start+count−1, on the previous layer's output.</summary>
    protected abstract void ForwardLayer(TSequence sequence, int layer, int start, int count, bool computeG);

    /// <summary>The first stage of a prefill: the prompt checked and stored, and embedded.</summary>
    internal void BeginPrefill(ReadOnlySpan<int> tokens)
    {
        StartSequence(tokens);
        ForwardEmbedding(Sequence, 0, tokens.Length);
    }

    /// <summary>Layer <paramref name="layer"/> of the prompt begun with <see cref="BeginPrefill"/>; layers go in order.</summary>
    internal void PrefillLayer(int layer) => ForwardLayer(Sequence, layer, 0, Sequence.Position, PrefillComputesG);

    /// <summary>The last stage: the logits after the prompt, once every layer ran.</summary>
    internal ReadOnlySpan<float> EndPrefill() => PromptLogits();
}
