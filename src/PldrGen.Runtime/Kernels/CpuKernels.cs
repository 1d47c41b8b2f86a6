using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// The float32 building blocks of the CPU forward pass. Shapes are passed in (the generated model passes its
/// <c>const</c> shapes); every buffer is the caller's, so nothing here allocates. Called by generated code, so public,
/// but hidden from IntelliSense: users call the model, not its kernels.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class CpuKernels
{
    /// <summary>y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] for r &lt; rows (a Linear layer over a block of rows).</summary>
    public static void Linear(ReadOnlySpan<float> x, int rows, LinearWeights layer, Span<float> y) =>
        MatMul.Linear(x.Slice(0, rows * layer.In), rows, layer.Weight, layer.Bias, y.Slice(0, rows * layer.Out));

    /// <summary>As <see cref="Linear"/>, each row computed exactly as a decode step computes it alone (batched decode).</summary>
    public static void LinearPerRow(ReadOnlySpan<float> x, int rows, LinearWeights layer, Span<float> y) =>
        MatMul.Linear(x.Slice(0, rows * layer.In), rows, layer.Weight, layer.Bias, y.Slice(0, rows * layer.Out), rowByRow: true);

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

    /// <summary>A[h] = Σ_s Q[s, h]ᵀ·Q[s, h] over all rows (no causal mask): the per-head dk×dk metric tensor.</summary>
    public static unsafe void MetricTensor(ReadOnlySpan<float> q, int rows, int heads, int headDim, Span<float> a)
    {
        Require(q.Length >= rows * heads * headDim && a.Length >= heads * headDim * headDim, "MetricTensor: a buffer is smaller than its shape");
        fixed (float* pq = q, pa = a)
        {
            var job = new HeadJob { Q = pq, Out = pa, Rows = rows, Heads = heads, HeadDim = headDim };
            CpuWorkers.Shared.For(heads, 1, &MetricTensorHeads, &job);
        }
    }

    /// <summary>
    /// One head's Σ_s q[s]ᵀ·q[s], accumulated in double: G raises A_LM to real powers, so the rounding of A is
    /// amplified all the way to the logits, and this sum over every position is where A picks up the most. Rows of
    /// A are built 16 at a time as rank-1 updates from each position's contiguous q row (widened to double once).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow tier-0 prefill
    static unsafe void MetricTensorHeads(void* state, int start, int end)
    {
        const int Block = 16;
        var job = (HeadJob*)state;
        int dk = job->HeadDim, dim = job->Heads * dk;
        double* row = stackalloc double[dk];
        double* acc = stackalloc double[Block * dk];
        for (int h = start; h < end; h++)
        {
            float* q = job->Q + h * dk, a = job->Out + h * dk * dk;
            for (int i0 = 0; i0 < dk; i0 += Block)
            {
                int rows = Math.Min(Block, dk - i0);
                new Span<double>(acc, rows * dk).Clear();
                for (int s = 0; s < job->Rows; s++)
                {
                    float* qs = q + s * dim;
                    for (int j = 0; j < dk; j++) row[j] = qs[j];
                    for (int i = 0; i < rows; i++) AxpyDouble(row[i0 + i], row, acc + i * dk, dk);
                }
                for (int k = 0; k < rows * dk; k++) a[i0 * dk + k] = (float)acc[k];
            }
        }
    }

    /// <summary>y += a·x in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow tier-0 prefill
    static unsafe void AxpyDouble(double a, double* x, double* y, int n)
    {
        var va = Vector256.Create(a);
        int j = 0;
        for (; j + 4 <= n; j += 4) Vector256.FusedMultiplyAdd(va, Vector256.Load(x + j), Vector256.Load(y + j)).Store(y + j);
        for (; j < n; j++) y[j] += a * x[j];
    }

    /// <summary>The pointers and sizes a per-head kernel needs (heads are split across the workers).</summary>
    unsafe struct HeadJob
    {
        public float* Q, G, Keys, Values, Out, Scores, QG;
        public int Rows, Start, Heads, HeadDim, MaxPositions;
    }

    /// <summary>
    /// The power-law step per head: A_LM = iSwiGLU(W·A + b) + 1e-9 (so A_LM &gt; 0), A_P = A_LM^pw element-wise,
    /// G_LM = a·A_P + ba; heads split across the workers. <paramref name="scratch"/> holds [H, dk, dk] floats.
    /// </summary>
    /// <remarks>
    /// The element-wise power turns a relative error ε of A_LM into pw·ε, and A_LM is tiny wherever W·A + b cancels;
    /// so both dk×dk products accumulate in double and the power is taken in double (a float pow computed as
    /// exp(pw·ln A) would add |pw·ln A| ulps). It costs dk³ per head, nothing next to the metric learner; what is left
    /// is the float32 rounding of A itself.
    /// </remarks>
    public static unsafe void PowerLaw(ReadOnlySpan<float> a, PlgaWeights plga, int heads, int headDim,
        Span<float> aLm, Span<float> g, Span<float> scratch)
    {
        int size = heads * headDim * headDim;
        Require(a.Length >= size && aLm.Length >= size && g.Length >= size && scratch.Length >= size
            && plga.W.Length >= size && plga.B.Length >= size && plga.Pw.Length >= size && plga.Alpha.Length >= size && plga.Beta.Length >= size,
            "PowerLaw: a buffer is smaller than [H, dk, dk]");
        fixed (float* pa = a, pw = plga.W, pb = plga.B, ppw = plga.Pw, pal = plga.Alpha, pbe = plga.Beta, paLm = aLm, pg = g, ps = scratch)
        {
            var job = new PowerLawJob { A = pa, W = pw, B = pb, Pw = ppw, Alpha = pal, Beta = pbe, ALm = paLm, G = pg, Scratch = ps, HeadDim = headDim };
            CpuWorkers.Shared.For(heads, 1, &PowerLawHeads, &job);
        }
    }

    unsafe struct PowerLawJob
    {
        public float* A, W, B, Pw, Alpha, Beta, ALm, G, Scratch;
        public int HeadDim;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow tier-0 prefill
    static unsafe void PowerLawHeads(void* state, int start, int end)
    {
        var job = (PowerLawJob*)state;
        int dk = job->HeadDim, n = dk * dk;
        double* row = stackalloc double[dk];
        for (int h = start; h < end; h++)
        {
            long at = (long)h * n;
            var aLm = new Span<float>(job->ALm + at, n);
            var aP = new Span<float>(job->Scratch + at, n);
            MatMulSquareDouble(job->W + at, job->A + at, job->B + at, job->ALm + at, dk, row);
            var pw = new ReadOnlySpan<float>(job->Pw + at, n);
            for (int i = 0; i < n; i++)
            {
                double z = aLm[i];
                aLm[i] = (float)(z * z / (1 + Math.Exp(-z))) + 1e-9f;
                aP[i] = (float)Math.Pow(aLm[i], pw[i]);
            }
            MatMulSquareDouble(job->Alpha + at, job->Scratch + at, job->Beta + at, job->G + at, dk, row);
        }
    }

    /// <summary>c = a·b + bias for square n×n matrices, each row accumulated in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow tier-0 prefill
    static unsafe void MatMulSquareDouble(float* a, float* b, float* bias, float* c, int n, double* row)
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) row[j] = bias[i * n + j];
            for (int k = 0; k < n; k++)
            {
                double aik = a[i * n + k];
                var va = Vector256.Create(aik);
                float* bk = b + k * n;
                int j = 0;
                for (; j + 8 <= n; j += 8)
                {
                    var (lo, hi) = Vector256.Widen(Vector256.Load(bk + j));
                    Vector256.FusedMultiplyAdd(va, lo, Vector256.Load(row + j)).Store(row + j);
                    Vector256.FusedMultiplyAdd(va, hi, Vector256.Load(row + j + 4)).Store(row + j + 4);
                }
                for (; j < n; j++) row[j] += aik * bk[j];
            }
            for (int j = 0; j < n; j++) c[i * n + j] = (float)row[j];
        }
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
            CpuWorkers.Shared.For(heads, 1, &AttentionHeads, &job);
        }
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
        for (int p = 0; p < visible; p++) scores[p] = Vec.Dot(qg, keys + p * dim, dk) / sqrtDk;
        Vec.SoftMax(scores, visible);
        new Span<float>(output, dk).Clear();
        for (int p = 0; p < visible; p++) Vec.Axpy(scores[p], values + p * dim, output, dk);
    }

    /// <summary>
    /// y = W3·(silu(W1·x + b1) ⊙ (W2·x + b2)) + b3 over a block of rows; <paramref name="gate"/> and
    /// <paramref name="up"/> hold rows × hidden floats.
    /// </summary>
    public static void Glu(ReadOnlySpan<float> x, int rows, GluWeights glu, Span<float> gate, Span<float> up, Span<float> y)
    {
        int hidden = glu.Hidden;
        var g = gate.Slice(0, rows * hidden);
        var u = up.Slice(0, rows * hidden);
        Linear(x, rows, glu.W1, g);
        Linear(x, rows, glu.W2, u);
        SiluGate(g, u);
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
