using System.Diagnostics;
using System.Globalization;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Bench;

/// <summary>Effective GB/s of the decode matrix-vector products at the 110M shapes (a quick look, not a target).</summary>
static class KernelProbe
{
    public static int Run()
    {
        var random = new Random(1);
        foreach (var (outDim, inDim) in new[] { (896, 896), (2389, 896), (896, 2389), (32000, 896) })
        {
            var w = new LinearWeights(WeightMatrix.FromFloat32(outDim, inDim, Enumerable.Range(0, outDim * inDim).Select(_ => (float)random.NextDouble()).ToArray()), new float[outDim]);
            // Enough distinct matrices to defeat the caches, as in a real decode step.
            var copies = Enumerable.Range(0, Math.Max(1, 400_000_000 / (outDim * inDim * 4))).Select(_ => new LinearWeights(WeightMatrix.FromFloat32(outDim, inDim, Enumerable.Range(0, outDim * inDim).Select(_ => (float)random.NextDouble()).ToArray()), w.Bias)).ToArray();
            var x = new float[inDim];
            var y = new float[outDim];
            var samples = new List<double>();
            for (int r = 0; r < 5; r++)
            {
                var clock = Stopwatch.StartNew();
                foreach (var c in copies) CpuKernels.Linear(x, 1, c, y);
                samples.Add((double)copies.Length * outDim * inDim * 4 / clock.Elapsed.TotalSeconds / 1e9);
            }
            samples.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"matvec {outDim}×{inDim}: median {samples[2]:F1} GB/s ({copies.Length} copies)"));
        }
        return 0;
    }
}

/// <summary>Where a 110M prefill's metric learner spends its time, per layer (a quick look, not a target).</summary>
static class MetricLearnerProbe
{
    public static int Run()
    {
        const int heads = 14, dk = 64, fa = 170, s = 128, rows = heads * dk;
        var random = new Random(3);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5) * 0.1f).ToArray();
        LinearWeights L(int o, int i) => new(WeightMatrix.FromFloat32(o, i, R(o * i)), R(o));
        var glu = new GluWeights(L(fa, dk), L(fa, dk), L(dk, fa));
        var plga = new PlgaWeights(R(rows * dk), R(rows * dk), R(rows * dk), R(rows * dk), R(rows * dk));
        var norm = new NormWeights(Enumerable.Repeat(1f, dk).ToArray(), new float[dk]);
        var q = R(s * heads * dk);
        var a = new float[rows * dk];
        var tmp = new float[rows * dk];
        var gate = new float[rows * fa];
        var up = new float[rows * fa];
        var aLm = new float[rows * dk];
        var g = new float[rows * dk];
        var scratch = new float[rows * dk];
        for (int round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < 10; i++) CpuKernels.MetricTensor(q, s, heads, dk, a);
            double metric = clock.Elapsed.TotalMilliseconds / 10; clock.Restart();
            for (int i = 0; i < 16; i++) CpuKernels.Glu(a, rows, glu, gate, up, tmp);
            double glus = clock.Elapsed.TotalMilliseconds; clock.Restart();
            for (int i = 0; i < 9; i++) CpuKernels.LayerNorm(a, rows, norm, 1e-6f);
            double norms = clock.Elapsed.TotalMilliseconds; clock.Restart();
            CpuKernels.PowerLaw(a, plga, heads, dk, aLm, g, scratch);
            double power = clock.Elapsed.TotalMilliseconds; clock.Restart();
            for (int i = 0; i < 16; i++) CpuKernels.Linear(a, rows, glu.W1, gate);
            double w1 = clock.Elapsed.TotalMilliseconds; clock.Restart();
            for (int i = 0; i < 16; i++) CpuKernels.Linear(gate, rows, glu.W3, tmp);
            double w3 = clock.Elapsed.TotalMilliseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"16× W1 [896×64]·[170×64]ᵀ {w1:F2} ms, 16× W3 [896×170]·[64×170]ᵀ {w3:F2} ms"));
            double gluFlop = 16 * 2.0 * rows * 3 * dk * fa;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"QᵀQ {metric:F2} ms | 16 GLUs {glus:F2} ms ({gluFlop / glus / 1e6:F1} GFLOP/s) | 9 LayerNorms {norms:F2} ms | power law {power:F2} ms"));
        }
        return 0;
    }
}

/// <summary>Time between the forward pass's named probe points in a 110M prefill (a quick look, not a target).</summary>
static class PrefillProbe
{
    public static int Run()
    {
        var dir = RandomCheckpoint.Create(PldrGen.Models.PldrV51_110M.ModelInfo, PldrGen.Models.PldrV51_110M.TensorManifest, bf16: false);
        var model = PldrGen.Models.PldrV51_110M.Load(dir);
        var prompt = Enumerable.Range(4, 128).ToArray();
        var spent = new Dictionary<string, double>();
        var clock = new Stopwatch();
        string last = "start";
        model.Probe = (name, layer, values) =>
        {
            if (name == "A" && layer == 0)
            {
                int tiny = 0; float max = 0;
                foreach (var v in values) { if (v != 0 && MathF.Abs(v) < 1e-30f) tiny++; max = MathF.Max(max, MathF.Abs(v)); }
                Console.WriteLine($"A layer 0: max |A| {max}, {tiny} values below 1e-30");
            }
            spent[last + "→" + name] = spent.GetValueOrDefault(last + "→" + name) + clock.Elapsed.TotalMilliseconds;
            last = name;
            clock.Restart();
        };
        for (int round = 0; round < 4; round++)
        {
            spent.Clear();
            last = "start";
            clock.Restart();
            model.Prefill(prompt);
            spent[last + "→end"] = clock.Elapsed.TotalMilliseconds;
        }
        // The same metric learner on layer 0's real weights, piece by piece.
        var layer = model.Weights.Layers[0];
        const int rows = 14 * 64;
        var a = new float[rows * 64]; var tmp = new float[rows * 64]; var aIn = new float[rows * 64];
        var gate = new float[rows * 170]; var up = new float[rows * 170];
        var q = Enumerable.Range(0, 128 * 896).Select(i => (float)Math.Sin(i)).ToArray();
        for (int round = 0; round < 3; round++)
        {
            var c = Stopwatch.StartNew();
            CpuKernels.MetricTensor(q, 128, 14, 64, a);
            CpuKernels.LayerNorm(a, rows, layer.MetricNorm, 1e-6f);
            double t0 = c.Elapsed.TotalMilliseconds; c.Restart();
            foreach (var block in layer.MetricLearner)
            {
                a.CopyTo(aIn, 0);
                foreach (var glu in block.Glus) { CpuKernels.Glu(a, rows, glu, gate, up, tmp); tmp.CopyTo(a, 0); }
                CpuKernels.Add(a, aIn, a);
                CpuKernels.LayerNorm(a, rows, block.Norm, 1e-6f);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"layer 0 metric learner by hand: QᵀQ+LN {t0:F2} ms, res blocks {c.Elapsed.TotalMilliseconds:F2} ms"));
        }
        foreach (var (k, v) in spent.OrderByDescending(p => p.Value)) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{k,-24} {v,8:F2} ms"));
        return 0;
    }
}
