using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Tests.Reference;

/// <summary>
/// What one layer's power-law attention deduced in a pass: the metric learner's A, A_LM and G_LM, each [H, dk, dk]
/// row-major. A and A_LM are null when G_LM was not learned in that pass (custom-G model, or G injected/cached).
/// </summary>
public sealed record ReferenceDeductive(double[]? A, double[]? A_LM, double[] G_LM);

/// <summary>
/// The KV-cache and G-cache of one sequence: per layer, K (after RoPE) and V of every position so far, and the G_LM
/// frozen at prefill.
/// </summary>
public sealed class ReferenceCache
{
    internal ReferenceCache(int layers, int capacity, int hidden)
    {
        Capacity = capacity;
        K = new double[layers][];
        V = new double[layers][];
        for (int l = 0; l < layers; l++) { K[l] = new double[capacity * hidden]; V[l] = new double[capacity * hidden]; }
    }

    /// <summary>Number of cached positions; the next token goes to this position.</summary>
    public int Length { get; internal set; }
    public int Capacity { get; }
    internal double[][] K { get; }          // per layer [Capacity, D]
    internal double[][] V { get; }          // per layer [Capacity, D]
    internal double[][] G { get; set; } = []; // per layer [H, dk, dk]
}

/// <summary>
/// The PLDR-LLM v510 forward pass written out in plain float64 loops, one block per line of the math in
/// docs/pldr-llm.md. It is the yardstick for every faster path: slow, obvious and checked against the authors'
/// float64 fixtures (reference64.safetensors).
/// </summary>
public sealed class ReferenceModel
{
    // A GLU block: w3( silu(w1·x + b1) ⊙ (w2·x + b2) ) + b3, weights stored [out, in].
    sealed record Glu(int In, int Hidden, int Out, double[] W1, double[] B1, double[] W2, double[] B2, double[] W3, double[] B3);

    sealed record Norm(double[] Weight, double[] Bias);

    sealed record ResBlock(Glu[] Dense, Norm Norm);

    sealed class Layer
    {
        public required double[] Wq, Bq, Wk, Bk, Wv, Bv, Wo, Bo;   // [D, D], [D]
        public required Glu Ffn;
        public required Norm Norm1, Norm2;                          // [D]
        // Metric learner and power-law attention (learned G only).
        public Norm? NormA;                                         // mha1.layernorm1 [dk]
        public ResBlock[] Res = [];
        public double[]? W, B, Pw, Alpha, BAlpha;                   // plgatt_layer [H, dk, dk]
        // Custom-G models: G_LM straight from the checkpoint [H, dk, dk].
        public double[]? FixedG;
    }

    readonly int V, D, H, Dk, L;
    readonly double eps;
    readonly double sqrtD, sqrtDk;
    readonly double[] embedding, finalW, finalB;
    readonly Norm normIn;
    readonly Layer[] layers;
    readonly double[] ropeCos, ropeSin; // [MaxPositionEmbeddings, dk/2]

    public PldrConfig Config { get; }

    /// <summary>Per layer, what the latest <see cref="Forward"/> or <see cref="Prefill"/> deduced.</summary>
    public ReferenceDeductive[] Deductive { get; private set; } = [];

    /// <summary>
    /// Loads config.json and model.safetensors from <paramref name="modelDir"/>. With
    /// <paramref name="float32AttentionScale"/> the attention scale √dk is rounded to float32 as the authors' code
    /// computes it (<c>torch.sqrt(torch.tensor(dk).to(torch.float32))</c>), even in its float64 runs: that is what
    /// reference64 holds (exact √dk moves logits by up to ~7e-8 where √dk is irrational). √D is exact: LN_in makes
    /// its rounding nearly invisible, and the fixtures fit exact √D slightly better (1e-13 level).
    /// </summary>
    public static ReferenceModel Load(string modelDir, bool float32AttentionScale = true)
    {
        var config = PldrConfig.Load(Path.Combine(modelDir, "config.json"));
        using var st = SafeTensorsFile.Open(Path.Combine(modelDir, "model.safetensors"));
        return new ReferenceModel(config, st, float32AttentionScale);
    }

    ReferenceModel(PldrConfig config, SafeTensorsFile st, bool float32AttentionScale)
    {
        Config = config;
        V = config.VocabSize; D = config.HiddenSize; H = config.NumAttentionHeads; Dk = config.HeadDim; L = config.NumHiddenLayers;
        eps = config.LayerNormEps;
        if (H * Dk != D) throw new PldrException($"hidden_size {D} is not num_attention_heads {H} × head_dim {Dk}");
        if (Dk % 2 != 0) throw new PldrException($"head_dim {Dk} must be even for RoPE");
        sqrtD = Math.Sqrt(D);
        sqrtDk = float32AttentionScale ? MathF.Sqrt(Dk) : Math.Sqrt(Dk);

        double[] Read(string name, params int[] shape)
        {
            var e = st.Entry(name);
            if (!e.Shape.SequenceEqual(shape))
                throw new PldrException($"tensor '{name}' has shape {e.ShapeText}, expected [{string.Join(", ", shape)}]");
            return st.ReadFloat64(name);
        }
        double[] Bias(string name, int n) => st.Contains(name) ? Read(name, n) : new double[n];
        Norm ReadNorm(string prefix, int n) => new(Read(prefix + ".weight", n), Read(prefix + ".bias", n));
        Glu ReadGlu(string prefix, int dIn, int hidden, int dOut) => new(dIn, hidden, dOut,
            Read(prefix + ".gluw1.weight", hidden, dIn), Bias(prefix + ".gluw1.bias", hidden),
            Read(prefix + ".gluw2.weight", hidden, dIn), Bias(prefix + ".gluw2.bias", hidden),
            Read(prefix + ".gluw3.weight", dOut, hidden), Bias(prefix + ".gluw3.bias", dOut));

        embedding = Read("decoder.embedding.weight", V, D);
        normIn = ReadNorm("decoder.layernorm1", D);
        finalW = Read("final_layer.weight", V, D);
        finalB = Bias("final_layer.bias", V);
        double[]? pastG = config.LearnedG ? null : Read("decoder.past_G_values", L, 3, 1, H, Dk, Dk);

        layers = new Layer[L];
        for (int l = 0; l < L; l++)
        {
            string p = $"decoder.dec_layers.{l}.";
            var layer = new Layer
            {
                Wq = Read(p + "mha1.wq.weight", D, D), Bq = Bias(p + "mha1.wq.bias", D),
                Wk = Read(p + "mha1.wk.weight", D, D), Bk = Bias(p + "mha1.wk.bias", D),
                Wv = Read(p + "mha1.wv.weight", D, D), Bv = Bias(p + "mha1.wv.bias", D),
                Wo = Read(p + "mha1.dense.weight", D, D), Bo = Bias(p + "mha1.dense.bias", D),
                Ffn = ReadGlu(p + "ffn", D, config.IntermediateSize, D),
                Norm1 = ReadNorm(p + "layernorm1", D),
                Norm2 = ReadNorm(p + "layernorm2", D),
            };
            if (config.LearnedG)
            {
                layer.NormA = ReadNorm(p + "mha1.layernorm1", Dk);
                layer.Res = new ResBlock[config.NumReslayerA];
                for (int r = 0; r < config.NumReslayerA; r++)
                {
                    var dense = new Glu[config.NumDenseA];
                    for (int n = 0; n < config.NumDenseA; n++)
                        dense[n] = ReadGlu($"{p}mha1.reslayerAs.{r}.denseAs.{n}", Dk, config.ADff, Dk);
                    layer.Res[r] = new ResBlock(dense, ReadNorm($"{p}mha1.reslayerAs.{r}.layernormA", Dk));
                }
                string g = p + "mha1.plgatt_layer.";
                layer.W = Read(g + "Wlst", H, Dk, Dk);
                layer.B = Read(g + "blst", H, Dk, Dk);
                layer.Pw = Read(g + "pwlst", H, Dk, Dk);
                layer.Alpha = Read(g + "alst", H, Dk, Dk);
                layer.BAlpha = Read(g + "balst", H, Dk, Dk);
            }
            else
            {
                // past_G_values [L, 3, 1, H, dk, dk]: entry 2 of layer l, batch 0, is G_LM.
                int size = H * Dk * Dk;
                layer.FixedG = pastG!.AsSpan(((l * 3 + 2) * 1 + 0) * size, size).ToArray();
            }
            layers[l] = layer;
        }

        // RoPE table, as torchtune builds it: θ_i = 1 / base^(2i/dk), angle = p·θ_i.
        int half = Dk / 2, positions = config.MaxPositionEmbeddings;
        ropeCos = new double[positions * half];
        ropeSin = new double[positions * half];
        for (int i = 0; i < half; i++)
        {
            double theta = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / Dk);
            for (int pos = 0; pos < positions; pos++)
            {
                ropeCos[pos * half + i] = Math.Cos(pos * theta);
                ropeSin[pos * half + i] = Math.Sin(pos * theta);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Public passes

    /// <summary>
    /// Full forward pass over <paramref name="tokens"/> at positions 0..n-1 (causal attention); returns logits [n, V].
    /// G_LM per layer comes from <paramref name="injectedG"/> when given ([H, dk, dk] per layer), else from the
    /// checkpoint (custom G) or the metric learner on this pass's Q. Sets <see cref="Deductive"/>.
    /// </summary>
    public double[] Forward(ReadOnlySpan<int> tokens, double[][]? injectedG = null)
    {
        var cache = new ReferenceCache(L, tokens.Length, D);
        var logits = Run(tokens, cache, ChooseG(injectedG), out var deductive);
        Deductive = deductive;
        return logits;
    }

    /// <summary>
    /// Prefill: the full forward pass on the prompt, keeping K, V of every position and freezing each layer's G_LM
    /// (the G-cache). Returns logits [S, V] and the cache for <see cref="DecodeStep"/>. Sets <see cref="Deductive"/>.
    /// </summary>
    public (double[] Logits, ReferenceCache Cache) Prefill(ReadOnlySpan<int> prompt, double[][]? injectedG = null)
    {
        var cache = new ReferenceCache(L, Config.MaxPositionEmbeddings, D);
        var logits = Run(prompt, cache, ChooseG(injectedG), out var deductive);
        Deductive = deductive;
        cache.G = Array.ConvertAll(deductive, d => d.G_LM);
        return (logits, cache);
    }

    /// <summary>One decode step: <paramref name="token"/> at position cache.Length attends to every cached K, V (no
    /// mask) through the frozen G_LM; only this position is computed. Returns its logits [V].</summary>
    public double[] DecodeStep(ReferenceCache cache, int token)
    {
        if (cache.G.Length != L) throw new InvalidOperationException("DecodeStep needs a cache filled by Prefill");
        return Run([token], cache, cache.G, out _);
    }

    /// <summary>Greedy decoding with KV-cache and G-cache. Logits row t is what token t was chosen from (row 0 = last
    /// prompt position). With <paramref name="injectedG"/>, that G is used from prefill on.</summary>
    public (int[] Tokens, double[] Logits) GreedyCached(int[] prompt, int steps, double[][]? injectedG = null)
    {
        var tokens = new int[steps];
        var logits = new double[steps * V];
        var (prefill, cache) = Prefill(prompt, injectedG);
        double[] row = prefill.AsSpan((prompt.Length - 1) * V, V).ToArray();
        for (int t = 0; t < steps; t++)
        {
            if (t > 0) row = DecodeStep(cache, tokens[t - 1]);
            row.CopyTo(logits, t * V);
            tokens[t] = ArgMax(row);
        }
        return (tokens, logits);
    }

    /// <summary>Greedy decoding without caches: every step re-runs the whole growing sequence (A and G recomputed).</summary>
    public (int[] Tokens, double[] Logits) GreedyNoCache(int[] prompt, int steps)
    {
        var tokens = new int[steps];
        var logits = new double[steps * V];
        var sequence = new List<int>(prompt);
        for (int t = 0; t < steps; t++)
        {
            var all = Forward(sequence.ToArray());
            var row = all.AsSpan((sequence.Count - 1) * V, V);
            row.CopyTo(logits.AsSpan(t * V));
            tokens[t] = ArgMax(row);
            sequence.Add(tokens[t]);
        }
        return (tokens, logits);
    }

    public static int ArgMax(ReadOnlySpan<double> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The decoder

    // Per layer: the given G_LM, the checkpoint's (custom G), or null = learn it in the pass.
    double[]?[] ChooseG(double[][]? injectedG)
    {
        if (injectedG is not null && injectedG.Length != L)
            throw new ArgumentException($"injected G has {injectedG.Length} layers, the model has {L}");
        var g = new double[]?[L];
        for (int l = 0; l < L; l++)
        {
            g[l] = injectedG?[l] ?? layers[l].FixedG;
            if (g[l] is { } given && given.Length != H * Dk * Dk)
                throw new ArgumentException($"G_LM of layer {l} has {given.Length} elements, expected {H * Dk * Dk}");
        }
        return g;
    }

    // Runs tokens at positions cache.Length, cache.Length+1, … through the decoder, appending their K and V to the
    // cache; each position attends to every position up to itself. Returns logits [n, V].
    double[] Run(ReadOnlySpan<int> tokens, ReferenceCache cache, double[]?[] g, out ReferenceDeductive[] deductive)
    {
        int n = tokens.Length, p0 = cache.Length;
        if (n == 0) throw new ArgumentException("no tokens to run");
        if (p0 + n > cache.Capacity || p0 + n > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"positions up to {p0 + n} exceed the cache ({cache.Capacity}) or max_position_embeddings");

        // x = LN_in(Emb[token] · √D)
        var x = new double[n * D];
        for (int i = 0; i < n; i++)
        {
            int token = tokens[i];
            if ((uint)token >= (uint)V) throw new ArgumentOutOfRangeException(nameof(tokens), $"token {token} is outside the vocabulary");
            for (int c = 0; c < D; c++) x[i * D + c] = embedding[token * D + c] * sqrtD;
            LayerNorm(x.AsSpan(i * D, D), normIn);
        }

        deductive = new ReferenceDeductive[L];
        for (int l = 0; l < L; l++)
        {
            var layer = layers[l];

            // Q, K, V = Linear(x); head h owns channels [h·dk, (h+1)·dk)
            var q = Linear(x, n, D, layer.Wq, layer.Bq, D);
            var k = Linear(x, n, D, layer.Wk, layer.Bk, D);
            var v = Linear(x, n, D, layer.Wv, layer.Bv, D);

            // RoPE on Q and K at their absolute positions
            for (int i = 0; i < n; i++) { Rope(q.AsSpan(i * D, D), p0 + i); Rope(k.AsSpan(i * D, D), p0 + i); }

            // append K, V to the cache
            k.CopyTo(cache.K[l], p0 * D);
            v.CopyTo(cache.V[l], p0 * D);

            // G_LM: given, or learned from this pass's Q
            if (g[l] is { } given) deductive[l] = new ReferenceDeductive(null, null, given);
            else deductive[l] = MetricLearner(layer, q, n);

            // attn = softmax((Q·G_LM)·Kᵀ / √dk, causal) · V, heads merged, then dense
            var heads = Attention(q, n, p0, cache.K[l], cache.V[l], deductive[l].G_LM);
            var attn = Linear(heads, n, D, layer.Wo, layer.Bo, D);

            // x1 = LN1(attn + x)
            for (int i = 0; i < n * D; i++) attn[i] += x[i];
            for (int i = 0; i < n; i++) LayerNorm(attn.AsSpan(i * D, D), layer.Norm1);
            var x1 = attn;

            // x = LN2(GLU_ffn(x1) + x1)
            x = GluForward(layer.Ffn, x1, n);
            for (int i = 0; i < n * D; i++) x[i] += x1[i];
            for (int i = 0; i < n; i++) LayerNorm(x.AsSpan(i * D, D), layer.Norm2);
        }
        cache.Length = p0 + n;

        // logits = final_layer(x)
        return Linear(x, n, D, finalW, finalB, V);
    }

    // The metric learner and power-law graph attention weights of every head, from this pass's Q (after RoPE).
    ReferenceDeductive MetricLearner(Layer layer, double[] q, int n)
    {
        int size = Dk * Dk;
        var A = new double[H * size];
        var ALm = new double[H * size];
        var G = new double[H * size];
        for (int h = 0; h < H; h++)
        {
            int off = h * size;
            var a = A.AsSpan(off, size);

            // A0 = Σ_s Q[s]ᵀ Q[s] over every position of the pass (no mask)
            for (int r = 0; r < Dk; r++)
                for (int c = 0; c < Dk; c++)
                {
                    double sum = 0;
                    for (int s = 0; s < n; s++) sum += q[s * D + h * Dk + r] * q[s * D + h * Dk + c];
                    a[r * Dk + c] = sum;
                }

            // A = LN_dk(A0), row by row
            for (int r = 0; r < Dk; r++) LayerNorm(a.Slice(r * Dk, Dk), layer.NormA!);

            // residual blocks: Ain = A; A = GLU_N(…GLU_1(A)); A = LN_dk(A + Ain)   (rows of A are the GLU's tokens)
            foreach (var block in layer.Res)
            {
                var ain = a.ToArray();
                var t = ain;
                foreach (var glu in block.Dense) t = GluForward(glu, t, Dk);
                for (int i = 0; i < size; i++) a[i] = t[i] + ain[i];
                for (int r = 0; r < Dk; r++) LayerNorm(a.Slice(r * Dk, Dk), block.Norm);
            }

            // A_LM = iSwiGLU(W·A + b) + 1e-9
            var aLm = ALm.AsSpan(off, size);
            for (int r = 0; r < Dk; r++)
                for (int c = 0; c < Dk; c++)
                {
                    double z = 0;
                    for (int m = 0; m < Dk; m++) z += layer.W![off + r * Dk + m] * a[m * Dk + c];
                    z += layer.B![off + r * Dk + c];
                    aLm[r * Dk + c] = z * Silu(z) + 1e-9;
                }

            // A_P = A_LM ^ pw, element-wise
            var ap = new double[size];
            for (int i = 0; i < size; i++) ap[i] = Math.Pow(aLm[i], layer.Pw![off + i]);

            // G_LM = a·A_P + ba
            var gLm = G.AsSpan(off, size);
            for (int r = 0; r < Dk; r++)
                for (int c = 0; c < Dk; c++)
                {
                    double sum = 0;
                    for (int m = 0; m < Dk; m++) sum += layer.Alpha![off + r * Dk + m] * ap[m * Dk + c];
                    gLm[r * Dk + c] = sum + layer.BAlpha![off + r * Dk + c];
                }
        }
        return new ReferenceDeductive(A, ALm, G);
    }

    // Per head: query i (position p0+i) attends to keys 0..p0+i of the cache through G_LM. Returns [n, D].
    double[] Attention(double[] q, int n, int p0, double[] keys, double[] values, double[] gLm)
    {
        var output = new double[n * D];
        var qg = new double[Dk];
        var scores = new double[p0 + n];
        for (int h = 0; h < H; h++)
        {
            int ho = h * Dk, go = h * Dk * Dk;
            for (int i = 0; i < n; i++)
            {
                // qG = Q[i]·G_LM
                for (int c = 0; c < Dk; c++)
                {
                    double sum = 0;
                    for (int m = 0; m < Dk; m++) sum += q[i * D + ho + m] * gLm[go + m * Dk + c];
                    qg[c] = sum;
                }

                // score_j = qG·K[j] / √dk for j ≤ p0+i (later keys are masked: weight exactly 0)
                int count = p0 + i + 1;
                double max = double.NegativeInfinity;
                for (int j = 0; j < count; j++)
                {
                    double dot = 0;
                    for (int c = 0; c < Dk; c++) dot += qg[c] * keys[j * D + ho + c];
                    scores[j] = dot / sqrtDk;
                    max = Math.Max(max, scores[j]);
                }

                // softmax over j
                double total = 0;
                for (int j = 0; j < count; j++) { scores[j] = Math.Exp(scores[j] - max); total += scores[j]; }
                for (int j = 0; j < count; j++) scores[j] /= total;

                // out = Σ_j weight_j · V[j]
                for (int c = 0; c < Dk; c++)
                {
                    double sum = 0;
                    for (int j = 0; j < count; j++) sum += scores[j] * values[j * D + ho + c];
                    output[i * D + ho + c] = sum;
                }
            }
        }
        return output;
    }

    // Rotary embedding of one token's Q or K (all heads) at position pos.
    void Rope(Span<double> x, int pos)
    {
        int half = Dk / 2;
        for (int h = 0; h < H; h++)
        {
            var head = x.Slice(h * Dk, Dk);
            for (int i = 0; i < half; i++)
            {
                double cos = ropeCos[pos * half + i], sin = ropeSin[pos * half + i];
                // reference_rope: interleaved pairs (x[2i], x[2i+1]); otherwise rotate-half pairs (x[i], x[i+dk/2])
                int a = Config.ReferenceRope ? 2 * i : i;
                int b = Config.ReferenceRope ? 2 * i + 1 : i + half;
                double x0 = head[a], x1 = head[b];
                head[a] = x0 * cos - x1 * sin;
                head[b] = x1 * cos + x0 * sin;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Building blocks

    // y = x·Wᵀ + b for n rows; W is [dOut, dIn].
    static double[] Linear(double[] x, int n, int dIn, double[] w, double[] b, int dOut)
    {
        var y = new double[n * dOut];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < dOut; o++)
            {
                double sum = 0;
                for (int c = 0; c < dIn; c++) sum += x[i * dIn + c] * w[o * dIn + c];
                y[i * dOut + o] = sum + b[o];
            }
        return y;
    }

    // GLU(x) = w3( silu(w1·x) ⊙ (w2·x) ) for n rows.
    static double[] GluForward(Glu glu, double[] x, int n)
    {
        var gate = Linear(x, n, glu.In, glu.W1, glu.B1, glu.Hidden);
        var up = Linear(x, n, glu.In, glu.W2, glu.B2, glu.Hidden);
        for (int i = 0; i < gate.Length; i++) gate[i] = Silu(gate[i]) * up[i];
        return Linear(gate, n, glu.Hidden, glu.W3, glu.B3, glu.Out);
    }

    // In place: (x − mean) / sqrt(var + eps) · weight + bias, biased variance.
    void LayerNorm(Span<double> x, Norm norm)
    {
        double mean = 0;
        foreach (double value in x) mean += value;
        mean /= x.Length;
        double variance = 0;
        foreach (double value in x) variance += (value - mean) * (value - mean);
        variance /= x.Length;
        double rstd = 1 / Math.Sqrt(variance + eps);
        for (int i = 0; i < x.Length; i++) x[i] = (x[i] - mean) * rstd * norm.Weight[i] + norm.Bias[i];
    }

    static double Silu(double x) => x / (1 + Math.Exp(-x));
}
