using BenchmarkDotNet.Attributes;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Bench;

/// <summary>
/// Prefill (128 tokens) and decode (64 tokens after a 128-token prompt) of the 110M spec (seeded random weights)
/// and the demo model, in each cache mode. <c>dotnet run -c Release --project bench/PldrGen.Bench -- bdn --filter *Model*</c>
/// </summary>
[MemoryDiagnoser]
public class ModelSuite
{
    public enum Mode { KvAndG, KvOnly, InjectedG, NoCache }

    [Params("110M", "demo")] public string Model { get; set; } = "110M";
    [Params(Mode.KvAndG, Mode.KvOnly, Mode.InjectedG, Mode.NoCache)] public Mode CacheMode { get; set; }

    IPldrModel _model = null!;
    int[] _prompt = [];

    [GlobalSetup]
    public void Setup()
    {
        _model = Model == "110M"
            ? PldrV51_110M.Load(RandomCheckpoint.Create(PldrV51_110M.ModelInfo, PldrV51_110M.TensorManifest, bf16: false))
            : PldrTinyPydoc.Load(Path.Combine(AppContext.BaseDirectory, "models", "pldr-tiny-pydoc"));
        _prompt = Enumerable.Range(4, 128).ToArray();
        _model.UseKvCache = CacheMode != Mode.NoCache;
        _model.UseGCache = CacheMode is Mode.KvAndG or Mode.InjectedG;
        if (CacheMode == Mode.InjectedG)
        {
            _model.Prefill(_prompt);
            _model.InjectGCache(_model.CaptureGCache());
        }
    }

    [Benchmark(Description = "prefill 128")]
    public float Prefill() => _model.Prefill(_prompt)[0];

    /// <summary>16 decode steps without KV-cache (each re-runs the sequence), 64 otherwise.</summary>
    [Benchmark(Description = "prefill 128 + decode")]
    public float Decode()
    {
        var logits = _model.Prefill(_prompt);
        int steps = CacheMode == Mode.NoCache ? 16 : 64;
        for (int i = 0; i < steps; i++) logits = _model.Decode(4 + i);
        return logits[0];
    }
}

/// <summary>The kernels at the 110M shapes. <c>-- bdn --filter *Kernel*</c></summary>
[MemoryDiagnoser]
public class KernelSuite
{
    const int D = 896, F = 2389, H = 14, Dk = 64, Fa = 170, S = 128, MetricRows = H * Dk;
    LinearWeights _ffnUp = null!, _ffnUpBf16 = null!;
    GluWeights _metricGlu = null!;
    float[] _x = [], _y = [], _q = [], _g = [], _keys = [], _values = [], _attention = [], _scores = [], _qg = [];
    float[] _a = [], _gate = [], _up = [], _tmp = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5) * 0.1f).ToArray();
        var w = R(F * D);
        _ffnUp = new(WeightMatrix.FromFloat32(F, D, w), R(F));
        _ffnUpBf16 = new(WeightMatrix.FromFloat32(F, D, w, WeightPrecision.BFloat16), R(F));
        LinearWeights L(int o, int i) => new(WeightMatrix.FromFloat32(o, i, R(o * i)), R(o));
        _metricGlu = new(L(Fa, Dk), L(Fa, Dk), L(Dk, Fa));
        _x = R(S * D); _y = new float[S * F]; _q = R(S * D); _g = R(H * Dk * Dk);
        _keys = R(S * D); _values = R(S * D); _attention = new float[S * D]; _scores = new float[H * S]; _qg = new float[H * Dk];
        _a = R(MetricRows * Dk); _gate = new float[MetricRows * Fa]; _up = new float[MetricRows * Fa]; _tmp = new float[MetricRows * Dk];
    }

    [Benchmark(Description = "matvec 2389×896 f32")] public void MatVec() => CpuKernels.Linear(_x, 1, _ffnUp, _y);
    [Benchmark(Description = "matvec 2389×896 bf16")] public void MatVecBf16() => CpuKernels.Linear(_x, 1, _ffnUpBf16, _y);
    [Benchmark(Description = "GEMM 128×896 · 2389×896ᵀ")] public void Gemm() => CpuKernels.Linear(_x, S, _ffnUp, _y);
    [Benchmark(Description = "attention, decode row at 127")] public void AttentionDecode() =>
        CpuKernels.PowerLawAttention(_q, 1, S - 1, H, Dk, _g, _keys, _values, _attention, _scores, _qg);
    [Benchmark(Description = "attention, prefill 128")] public void AttentionPrefill() =>
        CpuKernels.PowerLawAttention(_q, S, 0, H, Dk, _g, _keys, _values, _attention, _scores, _qg);
    [Benchmark(Description = "metric tensor QᵀQ, 128 rows")] public void MetricTensor() => CpuKernels.MetricTensor(_q, S, H, Dk, _a);
    [Benchmark(Description = "metric-learner GLU, 896 rows")] public void MetricGlu() => CpuKernels.Glu(_a, MetricRows, _metricGlu, _gate, _up, _tmp);
}
