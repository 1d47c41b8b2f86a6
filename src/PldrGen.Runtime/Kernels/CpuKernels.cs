using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// The float32 building blocks of the CPU forward pass. Shapes are passed in (the generated model passes its
/// <c>const</c> shapes); every buffer is the caller's, so nothing here allocates. Called by generated code, so public,
/// but hidden from IntelliSense: users call the model, not its kernels.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static partial class CpuKernels
{
    /// <summary>y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] for r &lt; rows (a Linear layer over a block of rows).</summary>
    public static void Linear(ReadOnlySpan<float> x, int rows, LinearWeights layer, Span<float> y) =>
        MatMul.Linear(x.Slice(0, rows * layer.In), rows, layer.Weight, layer.Bias, y.Slice(0, rows * layer.Out));

    /// <summary>As <see cref="Linear"/>, each row computed exactly as a decode step computes it alone (batched decode).</summary>
    public static void LinearPerRow(ReadOnlySpan<float> x, int rows, LinearWeights layer, Span<float> y) =>
        MatMul.Linear(x.Slice(0, rows * layer.In), rows, layer.Weight, layer.Bias, y.Slice(0, rows * layer.Out), rowByRow: true);

    /// <summary>
    /// <see cref="Linear(ReadOnlySpan{float}, int, LinearWeights, Span{float})"/> for three layers of one input (Q, K
    /// and V), each its bits alone: a decode step runs them as one parallel loop, and int8 quantises x once.
    /// </summary>
    public static void LinearEach(ReadOnlySpan<float> x, int rows, LinearWeights a, Span<float> ya, LinearWeights b, Span<float> yb,
        LinearWeights c, Span<float> yc) =>
        Linear3(x, rows, a, ya, b, yb, c, yc, rowByRow: false);

    /// <summary>As <see cref="LinearEach"/>, each row computed exactly as a decode step computes it alone (batched decode).</summary>
    public static void LinearEachPerRow(ReadOnlySpan<float> x, int rows, LinearWeights a, Span<float> ya, LinearWeights b, Span<float> yb,
        LinearWeights c, Span<float> yc) =>
        Linear3(x, rows, a, ya, b, yb, c, yc, rowByRow: true);

    static void Linear3(ReadOnlySpan<float> x, int rows, LinearWeights a, Span<float> ya, LinearWeights b, Span<float> yb,
        LinearWeights c, Span<float> yc, bool rowByRow) =>
        MatMul.LinearEach(x.Slice(0, rows * a.In), rows, rowByRow, a.Weight, a.Bias, ya.Slice(0, rows * a.Out), b.Weight, b.Bias,
            yb.Slice(0, rows * b.Out), c.Weight, c.Bias, yc.Slice(0, rows * c.Out));

    /// <summary>LayerNorm of each row in place: (x − mean)/sqrt(biased variance + eps)·weight + bias.</summary>
    public static unsafe void LayerNorm(Span<float> x, int rows, NormWeights norm, float eps)
    {
        int dim = norm.Weight.Length;
        Require(x.Length >= rows * dim && norm.Bias.Length == dim, "LayerNorm: a buffer is smaller than its shape");
        fixed (float* px = x, w = norm.Weight, b = norm.Bias)
            for (int r = 0; r < rows; r++) Vec.LayerNorm(px + r * dim, dim, w, b, eps);
    }

    /// <summary>
    /// Rotary position embedding of rows at positions start.., head by head. Interleaved pairs (x[2i], x[2i+1])
    /// when <paramref name="interleaved"/> (torchtune, all v51 checkpoints), else rotate-half pairs (x[i], x[i+dk/2]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow tier-0 prefill
    public static void Rope(Span<float> x, int rows, int start, int heads, int headDim, bool interleaved, RopeTable table)
    {
        int half = headDim / 2, dim = heads * headDim;
        for (int r = 0; r < rows; r++)
        {
            var cos = table.Cos(start + r);
            var sin = table.Sin(start + r);
            for (int h = 0; h < heads; h++)
            {
                var head = x.Slice(r * dim + h * headDim, headDim);
                for (int i = 0; i < half; i++)
                {
                    int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
                    float x0 = head[a], x1 = head[b];
                    head[a] = x0 * cos[i] - x1 * sin[i];
                    head[b] = x1 * cos[i] + x0 * sin[i];
                }
            }
        }
    }

    /// <summary>The pointers and sizes a per-head kernel needs (heads are split across the workers).</summary>
    unsafe struct HeadJob
    {
        public float* Q, G, Keys, Values, Out, Scores, QG;
        public int Rows, Start, Heads, HeadDim, MaxPositions;
    }

    /// <summary>
    /// Power law graph attention for rows at positions start..start+rows−1 against cached K, V [positions, D]:
    /// out = softmax((q·G)·Kᵀ/√dk over keys 0..p) · V, per head, heads split across the workers.
    /// <paramref name="scores"/> holds [H, max positions] and <paramref name="qg"/> [H, dk] of scratch.
    /// </summary>
    public static unsafe void PowerLawAttention(ReadOnlySpan<float> q, int rows, int start, int heads, int headDim,
        ReadOnlySpan<float> g, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, Span<float> qg)
    {
        int dim = heads * headDim, positions = start + rows;
        Require(q.Length >= rows * dim && output.Length >= rows * dim && g.Length >= heads * headDim * headDim
            && keys.Length >= positions * dim && values.Length >= positions * dim
            && scores.Length >= heads * positions && scores.Length % heads == 0 && qg.Length >= heads * headDim,
            "PowerLawAttention: a buffer is smaller than its shape (scores [H, P], qg [H, dk])");
        fixed (float* pq = q, pg = g, pk = keys, pv = values, po = output, ps = scores, pqg = qg)
        {
            var job = new HeadJob
            {
                Q = pq, G = pg, Keys = pk, Values = pv, Out = po, Scores = ps, QG = pqg,
                Rows = rows, Start = start, Heads = heads, HeadDim = headDim, MaxPositions = scores.Length / heads,
            };
            // A decode row goes in head groups, each position by position (AttendHeads).
            if (rows == 1) CpuWorkers.Shared.For(DecodeHeadGroupCount(heads), 1, &DecodeHeadGroups, &job);
            else CpuWorkers.Shared.For(heads, 1, &AttentionHeads, &job);
        }
    }

    /// <summary>Two head groups per worker: long runs of each cached row, and a second item to hand over when a core
    /// runs slow.</summary>
    static int DecodeHeadGroupCount(int heads) => Math.Min(2 * CpuWorkers.SharedThreads, heads);

    /// <summary>Head groups [start, end) of one decode row: group i of n holds heads [H·i/n, H·(i+1)/n).</summary>
    static unsafe void DecodeHeadGroups(void* state, int start, int end)
    {
        var job = (HeadJob*)state;
        int groups = DecodeHeadGroupCount(job->Heads), dk = job->HeadDim, dim = job->Heads * dk;
        for (int group = start; group < end; group++)
            AttendHeads(job->Q, job->G, job->Keys, job->Values, job->Out, job->Scores, job->MaxPositions, job->QG, job->Start + 1,
                job->Heads * group / groups, job->Heads * (group + 1) / groups, dk, dim);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow tier-0 prefill
    static unsafe void AttentionHeads(void* state, int start, int end)
    {
        var job = (HeadJob*)state;
        int dk = job->HeadDim, dim = job->Heads * dk;
        float sqrtDk = MathF.Sqrt(dk); // the authors divide by √dk taken in float32
        for (int h = start; h < end; h++)
        {
            float* g = job->G + h * dk * dk, qg = job->QG + h * dk, scores = job->Scores + h * job->MaxPositions;
            for (int r = 0; r < job->Rows; r++) // causal: position p sees keys 0..p
                AttendHead(job->Q + r * dim + h * dk, g, job->Keys + h * dk, job->Values + h * dk, job->Out + r * dim + h * dk,
                    scores, qg, job->Start + r + 1, dk, dim, sqrtDk);
        }
    }

    /// <summary>
    /// One head of one query row: output = softmax((q·G)·Kᵀ/√dk over the first <paramref name="visible"/> keys)·V,
    /// with keys and values the head's columns of [positions, dim] rows. Batched decode calls it per row and head.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void AttendHead(float* q, float* g, float* keys, float* values, float* output, float* scores, float* qg,
        int visible, int dk, int dim, float sqrtDk)
    {
        new Span<float>(qg, dk).Clear();
        for (int i = 0; i < dk; i++) Vec.Axpy(q[i], g + i * dk, qg, dk);                  // q·G
        for (int p = 0; p < visible; p++)
        {
            PrefetchRow(keys + (long)(p + RowsAhead) * dim, dk, keys + (long)visible * dim);
            scores[p] = Vec.Dot(qg, keys + p * dim, dk) / sqrtDk;
        }
        Vec.SoftMax(scores, visible);
        new Span<float>(output, dk).Clear();
        for (int p = 0; p < visible; p++)
        {
            PrefetchRow(values + (long)(p + RowsAhead) * dim, dk, values + (long)visible * dim);
            Vec.Axpy(scores[p], values + p * dim, output, dk);
        }
    }

    /// <summary>
    /// Heads [first, last) of one query row q [D], each computed as <see cref="AttendHead"/> computes it (q·G, the
    /// scores, the softmax, the weighted values: the same calls in the same order per head, so the same bits), with
    /// the positions outermost: the group's part of each cached K and V row is read once, front to back, instead of
    /// one head's dk columns at a row's stride. <paramref name="g"/> is [H, dk, dk], keys and values [P, D], scores
    /// [H, scoreStride] and qg [H, dk] (decode rows, lone and batched).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void AttendHeads(float* q, float* g, float* keys, float* values, float* output, float* scores, int scoreStride,
        float* qg, int visible, int first, int last, int dk, int dim)
    {
        float sqrtDk = MathF.Sqrt(dk); // the authors divide by √dk taken in float32
        int span = (last - first) * dk;
        for (int h = first; h < last; h++)
        {
            new Span<float>(qg + h * dk, dk).Clear();
            for (int i = 0; i < dk; i++) Vec.Axpy(q[h * dk + i], g + (h * dk + i) * dk, qg + h * dk, dk); // q·G
        }
        for (int p = 0; p < visible; p++)
        {
            PrefetchRow(keys + (long)(p + RowsAhead) * dim + first * dk, span, keys + (long)visible * dim);
            for (int h = first; h < last; h++) scores[h * scoreStride + p] = Vec.Dot(qg + h * dk, keys + (long)p * dim + h * dk, dk) / sqrtDk;
        }
        for (int h = first; h < last; h++) Vec.SoftMax(scores + h * scoreStride, visible);
        new Span<float>(output + first * dk, span).Clear();
        for (int p = 0; p < visible; p++)
        {
            PrefetchRow(values + (long)(p + RowsAhead) * dim + first * dk, span, values + (long)visible * dim);
            for (int h = first; h < last; h++) Vec.Axpy(scores[h * scoreStride + p], values + (long)p * dim + h * dk, output + h * dk, dk);
        }
    }

    // A head's keys and values are dk floats every D: a stride the hardware prefetcher follows late, and after a
    // step's weights have streamed through the caches every cached row comes from memory.
    const int RowsAhead = 8;

    /// <summary>Asks for the cache lines of <paramref name="count"/> floats at <paramref name="row"/>, unless it lies at or past <paramref name="end"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void PrefetchRow(float* row, int count, float* end)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || row >= end) return;
        for (int i = 0; i < count; i += 16) System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + i);
    }

    /// <summary>
    /// y = W3·(silu(W1·x + b1) ⊙ (W2·x + b2)) + b3 over a block of rows; <paramref name="gate"/> and
    /// <paramref name="up"/> hold rows × hidden floats (up goes unused where the first half is one gated product).
    /// </summary>
    public static void Glu(ReadOnlySpan<float> x, int rows, GluWeights glu, Span<float> gate, Span<float> up, Span<float> y)
    {
        int hidden = glu.Hidden;
        var g = gate.Slice(0, rows * hidden);
        var u = up.Slice(0, rows * hidden);
        if (MatMul.CanGate(rows, glu.W1.Weight, glu.W2.Weight)) MatMul.GatedLinear(x, rows, glu.W1.Weight, glu.W1.Bias, glu.W2.Weight, glu.W2.Bias, g);
        else
        {
            // one parallel loop for both in a decode step, x quantised once for int8 (MatMul.LinearEach)
            MatMul.LinearEach(x.Slice(0, rows * glu.W1.In), rows, rowByRow: false, glu.W1.Weight, glu.W1.Bias, g, glu.W2.Weight, glu.W2.Bias, u);
            SiluGate(g, u);
        }
        Linear(g, rows, glu.W3, y);
    }

    /// <summary>g = silu(g)·u, split across the workers when it is large (the metric learner's 896×170 gates).</summary>
    internal static unsafe void SiluGate(Span<float> g, ReadOnlySpan<float> u)
    {
        const int Chunk = 4096;
        if (g.Length < 4 * Chunk)
        {
            Vec.SiluGate(g, u);
            return;
        }
        fixed (float* pg = g, pu = u)
        {
            var job = new GateJob { G = pg, U = pu, Length = g.Length };
            CpuWorkers.Shared.For((g.Length + Chunk - 1) / Chunk, 1, &SiluGateChunks, &job);
        }
    }

    unsafe struct GateJob
    {
        public float* G, U;
        public int Length;
    }

    static unsafe void SiluGateChunks(void* state, int start, int end)
    {
        const int Chunk = 4096;
        var job = (GateJob*)state;
        int from = start * Chunk, to = Math.Min(job->Length, end * Chunk);
        Vec.SiluGate(new Span<float>(job->G + from, to - from), new ReadOnlySpan<float>(job->U + from, to - from));
    }

    /// <summary>The kernels below hand raw pointers to worker threads: a short buffer must fail here, not corrupt memory.</summary>
    static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }

    /// <summary>z = x + y, element-wise (the residual connections).</summary>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z) => Vec.Add(x, y, z);

    /// <summary>x[t] = Emb[tokens[t]]·scale, row by row.</summary>
    public static void Embed(WeightMatrix embedding, ReadOnlySpan<int> tokens, float scale, Span<float> x)
    {
        int dim = embedding.Cols;
        for (int t = 0; t < tokens.Length; t++) embedding.CopyRow(tokens[t], scale, x.Slice(t * dim, dim));
    }

}
