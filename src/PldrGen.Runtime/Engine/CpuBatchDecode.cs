using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Runtime.Engine;

/// <summary>
/// The slots of one CPU model and their KV- and G-cached decode step: row b is slot slots[b]'s next token at its own
/// position. Every weight matrix is read once for all rows; RoPE, the cache rows and attention are per sequence, over
/// its own length and with its own G_LM, so nothing is padded. Each row is computed exactly as the model's own
/// <c>Decode</c> computes it alone (<see cref="CpuKernels.LinearPerRow"/>, per-row gates), so its tokens and logits do
/// not depend on the other rows. Slot 0 is the model itself, the others share its weights.
/// </summary>
sealed class CpuBatchDecode : BatchedSlots
{
    readonly CpuSequence[] _slotSequences;
    readonly ModelWeights _weights;
    readonly PldrConfig _config;
    readonly RopeTable _rope;
    readonly float _embeddingScale;
    readonly float[] _x, _x1, _q, _k, _v, _attention, _out, _gate, _up, _scores, _qg; // [rows, …] scratch

    CpuBatchDecode(IPldrModel[] models, CpuSequence[] sequences, ModelWeights weights)
        : base(models, sequences)
    {
        var config = models[0].Info.Config;
        int maxRows = models.Length;
        _slotSequences = sequences;
        _weights = weights;
        _config = config;
        _rope = new RopeTable(config.MaxPositionEmbeddings, config.HeadDim, config.RopeTheta);
        _embeddingScale = MathF.Sqrt(config.HiddenSize);
        int d = config.HiddenSize, f = config.IntermediateSize;
        (_x, _x1, _q, _k, _v, _attention, _out) = (new float[maxRows * d], new float[maxRows * d], new float[maxRows * d],
            new float[maxRows * d], new float[maxRows * d], new float[maxRows * d], new float[maxRows * d]);
        (_gate, _up) = (new float[maxRows * f], new float[maxRows * f]);
        _scores = new float[config.NumAttentionHeads * config.MaxPositionEmbeddings];
        _qg = new float[config.NumAttentionHeads * config.HeadDim];
    }

    /// <summary><paramref name="count"/> slots over <paramref name="model"/>'s weights: the model and count − 1 shares of it.</summary>
    public static CpuBatchDecode Over(ICpuModel model, int count)
    {
        if (count < 1) throw new PldrException($"slots must be ≥ 1, got {count}");
        IPldrModel[] models = [model, .. Enumerable.Range(1, count - 1).Select(_ => model.Share())];
        var sequences = Array.ConvertAll(models, m => (m as PldrModel<CpuSequence>
            ?? throw new PldrException($"{m.Info.Name}: a CPU model that is not a PldrModel<CpuSequence> cannot batch")).CurrentSequence);
        return new CpuBatchDecode(models, sequences, model.Weights);
    }

    public override long BytesPerSlot => PldrEngine.StateBytesPerSlot(_config);

    /// <summary>Appends tokens[b] to slot slots[b] and writes its logits to row b of <paramref name="logits"/> [rows, V].</summary>
    protected override void StepRows(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        var c = _config;
        var w = _weights;
        int rows = slots.Length, d = c.HiddenSize, f = c.IntermediateSize, heads = c.NumAttentionHeads, dk = c.HeadDim;
        float eps = (float)c.LayerNormEps;
        var x = _x.AsSpan(0, rows * d);
        var x1 = _x1.AsSpan(0, rows * d);
        var q = _q.AsSpan(0, rows * d);
        var k = _k.AsSpan(0, rows * d);
        var v = _v.AsSpan(0, rows * d);
        var attention = _attention.AsSpan(0, rows * d);
        var output = _out.AsSpan(0, rows * d);
        var gate = _gate.AsSpan(0, rows * f);
        var up = _up.AsSpan(0, rows * f);
        for (int b = 0; b < rows; b++) _slotSequences[slots[b]].WriteTokens(_slotSequences[slots[b]].Position, tokens.Slice(b, 1));

        // x = LN_in(Emb[tokens]·√D)
        CpuKernels.Embed(w.Embedding, tokens, _embeddingScale, x);
        CpuKernels.LayerNorm(x, rows, w.InputNorm, eps);
        for (int l = 0; l < c.NumHiddenLayers; l++)
        {
            var layer = w.Layers[l];
            // Q, K, V for every row at once; then RoPE at each row's position, K and V into that sequence's cache
            CpuKernels.LinearPerRow(x, rows, layer.Query, q);
            CpuKernels.LinearPerRow(x, rows, layer.Key, k);
            CpuKernels.LinearPerRow(x, rows, layer.Value, v);
            for (int b = 0; b < rows; b++)
            {
                var sequence = _slotSequences[slots[b]];
                int position = sequence.Position;
                var keys = sequence.LayerKeys(l);
                var values = sequence.LayerValues(l);
                var qRow = q.Slice(b * d, d);
                var kRow = keys.Slice(position * d, d);
                k.Slice(b * d, d).CopyTo(kRow);
                v.Slice(b * d, d).CopyTo(values.Slice(position * d, d));
                CpuKernels.Rope(qRow, 1, position, heads, dk, c.ReferenceRope, _rope);
                CpuKernels.Rope(kRow, 1, position, heads, dk, c.ReferenceRope, _rope);
                // attention = softmax((q·G_LM)·Kᵀ/√dk)·V over this sequence's own positions, with its own G
                CpuKernels.PowerLawAttention(qRow, 1, position, heads, dk, sequence.G.LayerG(l), keys, values, attention.Slice(b * d, d), _scores, _qg);
            }
            // x1 = LN1(dense(attention) + x)
            CpuKernels.LinearPerRow(attention, rows, layer.Dense, output);
            CpuKernels.Add(output, x, x1);
            CpuKernels.LayerNorm(x1, rows, layer.Norm1, eps);
            // x = LN2(GLU_ffn(x1) + x1), the gate row by row as a lone row computes it
            var ffn = layer.FeedForward;
            CpuKernels.LinearPerRow(x1, rows, ffn.W1, gate);
            CpuKernels.LinearPerRow(x1, rows, ffn.W2, up);
            for (int b = 0; b < rows; b++) CpuKernels.SiluGate(gate.Slice(b * f, f), up.Slice(b * f, f));
            CpuKernels.LinearPerRow(gate, rows, ffn.W3, output);
            CpuKernels.Add(output, x1, x);
            CpuKernels.LayerNorm(x, rows, layer.Norm2, eps);
        }
        // logits = final_layer(x), every row at once
        CpuKernels.LinearPerRow(x, rows, w.Output, logits.Slice(0, rows * c.VocabSize));
    }
}
