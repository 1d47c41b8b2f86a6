using System.Runtime.InteropServices;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Runtime.Engine;

/// <summary>
/// The slots of one CPU model and their KV- and G-cached decode step: row b is slot slots[b]'s next token at its own
/// position. Every weight matrix is read once for all rows; RoPE, the cache rows and attention are per sequence, over
/// its own length and with its own G_LM, so nothing is padded; the attention of every row (its heads in groups where
/// rows are few) is one loop across the workers. Each row is computed exactly as the model's own <c>Decode</c> computes it alone
/// (<see cref="CpuKernels.LinearPerRow"/>, <see cref="CpuKernels.AttendHeads"/>, per-row gates), so its tokens and
/// logits do not depend on the other rows. Slot 0 is the model itself, the others share its weights.
/// </summary>
sealed unsafe class CpuBatchDecode : BatchedSlots
{
    readonly List<CpuSequence> _rows = []; // during a step: the stepping slots' sequences, row by row
    readonly ModelWeights _weights;
    readonly RopeTable _rope;
    readonly float _embeddingScale;
    readonly float[] _x, _x1, _q, _k, _v, _attention, _out, _gate, _up; // [rows, …] scratch
    readonly float[] _scores, _qg; // [rows, H, P] and [rows, H, dk]: each row and head its own, as workers share the loop
    readonly GCHandle[] _pins;     // [rows, 3] during a step: each sequence's K, V and G arrays
    GCHandle _ropeHandle;          // during a step: the RoPE table, for the workers

    CpuBatchDecode(IPldrModel[] models, CpuSequence[] sequences, ModelWeights weights)
        : base(models, sequences)
    {
        var config = models[0].Info.Config;
        int maxRows = models.Length;
        _weights = weights;
        _rope = new RopeTable(config.MaxPositionEmbeddings, config.HeadDim, config.RopeTheta);
        _embeddingScale = MathF.Sqrt(config.HiddenSize);
        int d = config.HiddenSize, f = config.IntermediateSize;
        (_x, _x1, _q, _k, _v, _attention, _out) = (new float[maxRows * d], new float[maxRows * d], new float[maxRows * d],
            new float[maxRows * d], new float[maxRows * d], new float[maxRows * d], new float[maxRows * d]);
        (_gate, _up) = (new float[maxRows * f], new float[maxRows * f]);
        _scores = GC.AllocateUninitializedArray<float>(maxRows * config.NumAttentionHeads * config.MaxPositionEmbeddings, pinned: true);
        _qg = GC.AllocateUninitializedArray<float>(maxRows * config.NumAttentionHeads * config.HeadDim, pinned: true);
        _pins = new GCHandle[3 * maxRows];
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

    public override long BytesPerSlot => PldrEngine.StateBytesPerSlot(Info.Config);

    /// <summary>Appends tokens[b] to slot slots[b] and writes its logits to row b of <paramref name="logits"/> [rows, V].</summary>
    protected override void StepRows(ReadOnlySpan<int> slots, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        var c = Info.Config;
        var w = _weights;
        _rows.Clear();
        foreach (int slot in slots) _rows.Add((CpuSequence)Sequences[slot]);
        var sequences = _rows;
        int rows = slots.Length, d = c.HiddenSize, f = c.IntermediateSize;
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
        for (int b = 0; b < rows; b++) sequences[b].WriteTokens(sequences[b].Position, tokens.Slice(b, 1));

        Pin(sequences);
        try
        {
            // x = LN_in(Emb[tokens]·√D)
            CpuKernels.Embed(w.Embedding, tokens, _embeddingScale, x);
            CpuKernels.LayerNorm(x, rows, w.InputNorm, eps);
            for (int l = 0; l < c.NumHiddenLayers; l++)
            {
                var layer = w.Layers[l];
                // Q, K, V for every row at once
                CpuKernels.LinearEachPerRow(x, rows, layer.Query, q, layer.Key, k, layer.Value, v);
                // per row: RoPE at its position, K and V into its sequence's cache, and attention =
                // softmax((q·G_LM)·Kᵀ/√dk)·V over its own positions, with its own G
                Attention(sequences, l, attention);
                // x1 = LN1(dense(attention) + x)
                CpuKernels.LinearPerRow(attention, rows, layer.Dense, output);
                CpuKernels.Add(output, x, x1);
                CpuKernels.LayerNorm(x1, rows, layer.Norm1, eps);
                // x = LN2(GLU_ffn(x1) + x1), the gate row by row as a lone row computes it
                var ffn = layer.FeedForward;
                MatMul.LinearEach(x1, rows, rowByRow: true, ffn.W1.Weight, ffn.W1.Bias, gate, ffn.W2.Weight, ffn.W2.Bias, up);
                for (int b = 0; b < rows; b++) CpuKernels.SiluGate(gate.Slice(b * f, f), up.Slice(b * f, f));
                CpuKernels.LinearPerRow(gate, rows, ffn.W3, output);
                CpuKernels.Add(output, x1, x);
                CpuKernels.LayerNorm(x, rows, layer.Norm2, eps);
            }
            // logits = final_layer(x), every row at once
            CpuKernels.LinearPerRow(x, rows, w.Output, logits.Slice(0, rows * c.VocabSize));
        }
        finally
        {
            Unpin();
        }
    }

    /// <summary>Every row's RoPE, cache rows and attention at layer l (attention into <paramref name="output"/> [rows, D]), rows and head groups split across the workers.</summary>
    void Attention(IReadOnlyList<CpuSequence> sequences, int l, Span<float> output)
    {
        int rows = sequences.Count;
        var config = Info.Config;
        long layerCache = (long)l * config.MaxPositionEmbeddings * config.HiddenSize, layerG = (long)l * config.NumAttentionHeads * config.HeadDim * config.HeadDim;
        float** caches = stackalloc float*[3 * rows];
        int* visible = stackalloc int[rows];
        for (int b = 0; b < rows; b++)
        {
            caches[b] = (float*)_pins[3 * b].AddrOfPinnedObject() + layerCache;
            caches[rows + b] = (float*)_pins[3 * b + 1].AddrOfPinnedObject() + layerCache;
            caches[2 * rows + b] = (float*)_pins[3 * b + 2].AddrOfPinnedObject() + layerG;
            visible[b] = sequences[b].Position + 1; // the new token sees every cached position and itself
        }
        fixed (float* q = _q, k = _k, v = _v, o = output, scores = _scores, qg = _qg)
        {
            var job = new AttentionJob
            {
                Q = q, NewKeys = k, NewValues = v, Out = o, Rope = GCHandle.ToIntPtr(_ropeHandle), Interleaved = config.ReferenceRope, Keys = caches, Values = caches + rows, G = caches + 2 * rows, Visible = visible, Scores = scores, QG = qg,
                Heads = config.NumAttentionHeads, HeadDim = config.HeadDim, MaxPositions = config.MaxPositionEmbeddings,
                // a row's heads in one item, or in groups where rows are too few for two items a worker (a lone
                // decode row's split, CpuKernels.PowerLawAttention)
                HeadGroups = Math.Clamp((2 * CpuWorkers.SharedThreads + rows - 1) / rows, 1, config.NumAttentionHeads),
            };
            CpuWorkers.Shared.For(rows * job.HeadGroups, 1, &AttendRows, &job);
        }
    }

    /// <summary>Pins each sequence's K, V and G arrays for the step, so the workers can read them by pointer.</summary>
    void Pin(IReadOnlyList<CpuSequence> sequences)
    {
        for (int b = 0; b < sequences.Count; b++)
        {
            _pins[3 * b] = GCHandle.Alloc(sequences[b].KeyCache, GCHandleType.Pinned);
            _pins[3 * b + 1] = GCHandle.Alloc(sequences[b].ValueCache, GCHandleType.Pinned);
            _pins[3 * b + 2] = GCHandle.Alloc(sequences[b].G.G, GCHandleType.Pinned);
        }
        _ropeHandle = GCHandle.Alloc(_rope);
    }

    void Unpin()
    {
        if (_ropeHandle.IsAllocated) _ropeHandle.Free();
        for (int i = 0; i < _pins.Length; i++)
            if (_pins[i].IsAllocated) _pins[i].Free();
    }

    struct AttentionJob
    {
        public float* Q, NewKeys, NewValues, Out, Scores, QG; // [rows, D] × 4, [rows, H, P], [rows, H, dk]
        public nint Rope;                   // the RoPE table's handle
        public bool Interleaved;            // its pairs (CpuKernels.Rope)
        public float** Keys, Values, G;     // per row: this layer's K and V [P, D] and G_LM [H, dk, dk]
        public int* Visible;                // per row: the positions it attends to
        public int Heads, HeadDim, MaxPositions, HeadGroups;
    }

    /// <summary>Items [start, end) of row b × head group: the group's heads of that row.</summary>
    static void AttendRows(void* state, int start, int end)
    {
        var job = (AttentionJob*)state;
        int heads = job->Heads, groups = job->HeadGroups;
        for (int item = start; item < end; item++)
        {
            int b = item / groups, group = item % groups;
            AttendGroup(job, b, heads * group / groups, heads * (group + 1) / groups);
        }
    }

    /// <summary>
    /// Row b's heads [first, last): their new K and V into the cache, RoPE on them and on q, and attention as a lone
    /// decode row computes it (<see cref="CpuKernels.AttendHeads"/>).
    /// </summary>
    static void AttendGroup(AttentionJob* job, int b, int first, int last)
    {
        int dk = job->HeadDim, dim = job->Heads * dk, visible = job->Visible[b], stride = job->MaxPositions;
        float* q = job->Q + b * dim, g = job->G[b], keys = job->Keys[b], values = job->Values[b], output = job->Out + b * dim;
        float* qg = job->QG + b * dim, scores = job->Scores + (long)b * job->Heads * stride;
        // These heads' K and V of the new position into the cache, then RoPE on q and the cached K as Decode does
        int position = visible - 1, from = first * dk, width = (last - first) * dk;
        float* keyRow = keys + (long)position * dim + from;
        new ReadOnlySpan<float>(job->NewKeys + b * dim + from, width).CopyTo(new Span<float>(keyRow, width));
        new ReadOnlySpan<float>(job->NewValues + b * dim + from, width).CopyTo(new Span<float>(values + (long)position * dim + from, width));
        var rope = (RopeTable)GCHandle.FromIntPtr(job->Rope).Target!;
        CpuKernels.Rope(new Span<float>(q + from, width), 1, position, last - first, dk, job->Interleaved, rope);
        CpuKernels.Rope(new Span<float>(keyRow, width), 1, position, last - first, dk, job->Interleaved, rope);
        CpuKernels.AttendHeads(q, g, keys, values, output, scores, stride, qg, visible, first, last, dk, dim);
    }
}
