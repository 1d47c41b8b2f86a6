using System.Diagnostics;
using System.Globalization;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Bench;

/// <summary>
/// The 110M shapes' matrix products at every weight precision, interleaved round by round (a quick look, not a
/// target): decode matrix-vector GB/s of weight bytes over enough copies to defeat the caches, batched decode's
/// 16 rows computed as alone (<see cref="CpuKernels.LinearPerRow"/>) and 128-row GEMM in GFLOP/s. <c>-- kernels 1</c> runs on one thread and divides by the process's CPU time instead of the wall clock,
/// which a loaded machine disturbs less; naming precisions (f32, bf16, f16, int8) runs only those.
/// </summary>
static class KernelProbe
{
    static readonly WeightPrecision[] Precisions = [WeightPrecision.Float32, WeightPrecision.BFloat16, WeightPrecision.Float16, WeightPrecision.Int8];

    public static int Run(string[] args)
    {
        bool cpuTime = args.Length > 0 && args[0] == "1";
        if (cpuTime) CpuThreads.Use(1);
        var named = args.Where(a => a != "1").Select(WeightPrecisionNames.Parse).ToArray();
        var precisions = named.Length > 0 ? named : Precisions;
        var process = Process.GetCurrentProcess();
        double Seconds(Action work)
        {
            var (clock, cpu) = (Stopwatch.StartNew(), process.TotalProcessorTime);
            work();
            process.Refresh();
            return cpuTime ? (process.TotalProcessorTime - cpu).TotalSeconds : clock.Elapsed.TotalSeconds;
        }
        var random = new Random(1);
        foreach (var (outDim, inDim) in new[] { (896, 896), (2389, 896), (896, 2389), (32000, 896) })
        {
            var values = Enumerable.Range(0, outDim * inDim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            var bias = new float[outDim];
            var copies = precisions.ToDictionary(p => p, p => Enumerable.Range(0, Math.Max(1, 400_000_000 / (outDim * inDim * Bytes(p))))
                .Select(_ => new LinearWeights(WeightMatrix.FromFloat32(outDim, inDim, values, p), bias)).ToArray());
            const int rows = 128;
            var x = Enumerable.Range(0, rows * inDim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            var y = new float[rows * outDim];
            var decode = precisions.ToDictionary(p => p, _ => new List<double>());
            var batched = precisions.ToDictionary(p => p, _ => new List<double>());
            var prefill = precisions.ToDictionary(p => p, _ => new List<double>());
            for (int round = 0; round < 5; round++)
                foreach (var p in precisions)
                {
                    double seconds = Seconds(() => { foreach (var c in copies[p]) CpuKernels.Linear(x, 1, c, y); });
                    decode[p].Add((double)copies[p].Length * outDim * inDim * Bytes(p) / seconds / 1e9);
                    seconds = Seconds(() => { foreach (var c in copies[p]) CpuKernels.LinearPerRow(x, BatchRows, c, y); });
                    batched[p].Add(copies[p].Length * 2.0 * BatchRows * outDim * inDim / seconds / 1e9);
                    seconds = Seconds(() => { for (int i = 0; i < 4; i++) CpuKernels.Linear(x, rows, copies[p][0], y); });
                    prefill[p].Add(4 * 2.0 * rows * outDim * inDim / seconds / 1e9);
                }
            foreach (var p in precisions)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{outDim}×{inDim} {p,-8}: matvec median {Median(decode[p]),6:F1} GB/s | {BatchRows} rows as alone {Median(batched[p]),6:F1} GFLOP/s | {rows}-row GEMM median {Median(prefill[p]),6:F1} GFLOP/s"));
        }
        return 0;
    }

    const int BatchRows = 16; // batched decode at 16 sequences

    static int Bytes(WeightPrecision p) => p switch { WeightPrecision.Float32 => 4, WeightPrecision.Int8 => 1, _ => 2 };

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
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

/// <summary>
/// Time between the forward pass's named probe points in a 110M prefill (a quick look, not a target): the first
/// round (this fresh process's, JIT and first touches included) beside the median of the later ones, per step and in
/// all. <c>-- prefill [tokens] [f32|bf16|f16|int8]</c>.
/// </summary>
static class PrefillProbe
{
    public static int Run(string[] args)
    {
        int tokens = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 128;
        var precision = WeightPrecisionNames.Parse(args.Length > 1 ? args[1] : "f32");
        var dir = RandomCheckpoint.Create(PldrGen.Models.PldrV51_110M.ModelInfo, PldrGen.Models.PldrV51_110M.TensorManifest, bf16: false);
        var model = PldrGen.Models.PldrV51_110M.Load(dir, precision);
        var prompt = Enumerable.Range(4, tokens).ToArray();
        var rounds = new List<Dictionary<string, double>>();
        var clock = new Stopwatch();
        string last = "start";
        model.Probe = (name, layer, values) =>
        {
            var spent = rounds[^1];
            spent[last + "→" + name] = spent.GetValueOrDefault(last + "→" + name) + clock.Elapsed.TotalMilliseconds;
            last = name;
            clock.Restart();
        };
        var (jitTime, jitMethods) = (System.Runtime.JitInfo.GetCompilationTime(), System.Runtime.JitInfo.GetCompiledMethodCount());
        for (int round = 0; round < 7; round++)
        {
            rounds.Add([]);
            last = "start";
            var total = Stopwatch.StartNew();
            clock.Restart();
            model.Prefill(prompt);
            rounds[^1][last + "→end"] = clock.Elapsed.TotalMilliseconds;
            rounds[^1]["total"] = total.Elapsed.TotalMilliseconds;
            if (round == 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"first round: {System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods} methods compiled in {(System.Runtime.JitInfo.GetCompilationTime() - jitTime).TotalMilliseconds:F1} ms of JIT"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{tokens}-token {precision} prefill, ms: first round (fresh process) | median of rounds 2-7"));
        foreach (var step in rounds[0].Keys.OrderByDescending(k => rounds.Skip(1).Select(r => r[k]).Order().ElementAt(3)))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{step,-24} {rounds[0][step],8:F2} | {rounds.Skip(1).Select(r => r[step]).Order().ElementAt(3),8:F2}"));
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
        return 0;
    }
}

/// <summary>
/// Where a 110M decode step's time goes (a quick look, not a target): the forward pass's probe points after a
/// 128-token prompt, summed over 64 steps per round, with the logits row and a parallel loop's bare cost beside them.
/// <c>-- decode [f32|bf16|f16|int8]</c>
/// </summary>
static class DecodeProbe
{
    unsafe public static int Run(string[] args)
    {
        var precision = WeightPrecisionNames.Parse(args.Length > 0 ? args[0] : "f32");
        var dir = RandomCheckpoint.Create(PldrGen.Models.PldrV51_110M.ModelInfo, PldrGen.Models.PldrV51_110M.TensorManifest, bf16: false);
        var model = PldrGen.Models.PldrV51_110M.Load(dir, precision);
        var prompt = Enumerable.Range(4, 128).ToArray();
        var spent = new Dictionary<string, double>();
        var clock = new Stopwatch();
        string last = "start";
        PldrGen.Runtime.TensorProbe probe = (name, layer, _) =>
        {
            string key = last + "→" + name;
            spent[key] = spent.GetValueOrDefault(key) + clock.Elapsed.TotalMilliseconds;
            last = name;
            clock.Restart();
        };
        const int steps = 64;
        for (int round = 0; round < 4; round++)
        {
            model.Probe = null;
            var logits = model.Prefill(prompt);
            model.Probe = probe;
            spent.Clear();
            var total = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
            {
                last = "start";
                clock.Restart();
                logits = model.Decode(System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits));
                spent[last + "→end (logits)"] = spent.GetValueOrDefault(last + "→end (logits)") + clock.Elapsed.TotalMilliseconds;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {precision} decode {steps / total.Elapsed.TotalSeconds:F1} tok/s, {total.Elapsed.TotalMilliseconds / steps:F2} ms/step"));
        }
        foreach (var (k, v) in spent.OrderByDescending(p => p.Value))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{k,-24} {v / steps,8:F3} ms/step"));
        // A parallel loop with an empty body: what each of a step's 36 matrix products pays to split.
        var workers = CpuWorkers.Shared;
        var loop = Stopwatch.StartNew();
        const int loops = 20000;
        for (int i = 0; i < loops; i++) workers.For(56, 1, &Nothing, null);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"empty parallel loop: {loop.Elapsed.TotalMicroseconds / loops:F2} µs"));
        return 0;
    }

    static unsafe void Nothing(void* state, int start, int end) { }
}
