using System.Diagnostics;
using System.Globalization;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Bench;

/// <summary>
/// Speed as ratios to this machine's own limits, measured in one run with every variant interleaved round by round
/// (the machine is shared and noisy), reported as medians: decode ms/token ÷ (weight bytes read per token ÷ read
/// bandwidth), and prefill GFLOP/s ÷ the runtime's own GEMM rate.
/// </summary>
static class RatioReport
{
    const int PromptLength = 128, DecodeTokens = 64;

    sealed record Variant(string Name, IPldrModel Model, double BytesPerToken, double PrefillFlop, bool DecodeOnly = false);

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        Console.WriteLine($"PldrGen ratio report: {Environment.ProcessorCount} cores, {rounds} interleaved rounds, prompt {PromptLength}, decode {DecodeTokens}");
        using var limits = new MachineLimits();
        var variants = CreateVariants();
        var random = new Random(42);
        var prompt = Enumerable.Range(0, PromptLength).Select(_ => random.Next(4, 4096)).ToArray();

        var bandwidth = new List<double>();
        var gemm = new List<double>();
        var decodeMs = variants.ToDictionary(v => v.Name, _ => new List<double>());
        var prefillMs = variants.ToDictionary(v => v.Name, _ => new List<double>());
        // One warm-up round (JIT tiers, page faults) that is not counted.
        for (int round = -1; round < rounds; round++)
        {
            double b = limits.ReadBandwidth(), g = limits.GemmRate();
            if (round >= 0) { bandwidth.Add(b); gemm.Add(g); }
            foreach (var v in variants)
            {
                var (prefill, decode) = Time(v.Model, prompt);
                if (round < 0) continue;
                prefillMs[v.Name].Add(prefill);
                decodeMs[v.Name].Add(decode);
            }
            Console.Error.Write(round < 0 ? "warm-up done " : $"round {round + 1} ");
        }
        Console.Error.WriteLine();

        double bw = Median(bandwidth), rate = Median(gemm);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"read bandwidth (all cores, 1 GiB): median {bw:F1} GB/s   own GEMM rate (256×1024×1024): median {rate:F1} GFLOP/s"));
        Console.WriteLine();
        Console.WriteLine("variant                         decode ms/tok  bound ms/tok  ratio   tok/s | prefill tok/s  GFLOP/s  of GEMM");
        foreach (var v in variants)
        {
            double ms = Median(decodeMs[v.Name]) / DecodeTokens;
            double bound = v.BytesPerToken / (bw * 1e9) * 1e3;
            double prefill = Median(prefillMs[v.Name]);
            double gflops = v.PrefillFlop / (prefill / 1e3) / 1e9;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{v.Name,-31} {ms,13:F2} {bound,13:F2} {ms / bound,6:F2}× {1e3 / ms,7:F1} | {PromptLength / (prefill / 1e3),13:F1} {gflops,8:F1} {gflops / rate,7:P0}"));
        }
        return 0;
    }

    static List<Variant> CreateVariants()
    {
        var list = new List<Variant>();
        var f32 = RandomCheckpoint.Create(PldrV51_110M.ModelInfo, PldrV51_110M.TensorManifest, bf16: false);
        var manifest = PldrV51_110M.TensorManifest;
        double flop = PrefillFlop(PldrV51_110M.Config);
        var model = PldrV51_110M.Load(f32);
        list.Add(new("110M f32, KV+G cache", model, DecodeBytes(manifest, 4), flop));
        list.Add(new("110M bf16 (from f32), KV+G", PldrV51_110M.Load(f32, WeightPrecision.BFloat16), DecodeBytes(manifest, 2), flop));
        list.Add(new("110M int8 (from f32), KV+G", PldrV51_110M.Load(f32, WeightPrecision.Int8), DecodeBytes(manifest, 1), flop));
        // The paper's transferred G: even prefill skips the metric learner.
        var injected = PldrV51_110M.Load(f32);
        model.Prefill(Enumerable.Range(4, 64).ToArray());
        injected.InjectGCache(model.CaptureGCache());
        list.Add(new("110M f32, injected G-cache", injected, DecodeBytes(manifest, 4), flop - MetricLearnerFlop(PldrV51_110M.Config)));
        var demo = PldrTinyPydoc.Load(Path.Combine(AppContext.BaseDirectory, "models", "pldr-tiny-pydoc"));
        list.Add(new("demo (pydoc 2M) f32, KV+G", demo, DecodeBytes(PldrTinyPydoc.TensorManifest, 4), PrefillFlop(PldrTinyPydoc.Config)));
        return list;
    }

    /// <summary>Prefill of the prompt, then DecodeTokens greedy steps: (prefill ms, decode ms).</summary>
    static (double, double) Time(IPldrModel model, int[] prompt)
    {
        var clock = Stopwatch.StartNew();
        var logits = model.Prefill(prompt.AsSpan(0, Math.Min(prompt.Length, model.Info.Config.MaxPositionEmbeddings - DecodeTokens)));
        double prefill = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        int token = 0;
        for (int i = 0; i < DecodeTokens; i++)
        {
            token = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
            logits = model.Decode(token);
        }
        return (prefill, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>Weight bytes a KV+G-cached decode step reads: every matrix at <paramref name="matrixBytes"/> per weight
    /// and every vector at 4, except the embedding table (one row) and the metric learner and power-law weights
    /// (G is cached).</summary>
    static double DecodeBytes(IReadOnlyList<TensorShape> manifest, int matrixBytes) => manifest
        .Where(t => t.Name != "decoder.embedding.weight" && !t.Name.Contains("reslayerAs") && !t.Name.Contains("plgatt_layer") && !t.Name.Contains("mha1.layernorm1"))
        .Sum(t => t.Shape.Aggregate(1.0, (a, b) => a * b) * (t.Shape.Length == 2 ? matrixBytes : 4));

    static double MetricLearnerFlop(PldrConfig c) =>
        c.NumHiddenLayers * (2 * c.NumAttentionHeads * PromptLength * c.HeadDim * c.HeadDim
            + c.NumReslayerA * c.NumDenseA * 2.0 * (c.NumAttentionHeads * c.HeadDim) * 3 * c.HeadDim * c.ADff
            + 2 * 2.0 * c.NumAttentionHeads * c.HeadDim * c.HeadDim * c.HeadDim);

    /// <summary>FLOPs of a 128-token prefill that computes logits for the last position only.</summary>
    public static double PrefillFlop(PldrConfig c)
    {
        double s = PromptLength, d = c.HiddenSize, f = c.IntermediateSize, h = c.NumAttentionHeads, dk = c.HeadDim;
        double perLayer =
            2 * s * 4 * d * d                                   // q, k, v, dense
            + 2 * s * 3 * d * f                                 // feed-forward GLU
            + 2 * h * s * dk * dk                               // A = QᵀQ
            + c.NumReslayerA * c.NumDenseA * 2 * (h * dk) * 3 * dk * c.ADff // metric learner GLUs over H·dk rows
            + 2 * 2 * h * dk * dk * dk                          // W·A and a·A_P
            + h * s * (s + 1) / 2 * 2 * dk * 2                  // (q·G)·kᵀ and ·v over the causal triangle
            + 2 * s * h * dk * dk;                              // q·G
        return c.NumHiddenLayers * perLayer + 2 * d * c.VocabSize;
    }

    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
