using System.Diagnostics;
using System.Runtime.Intrinsics;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Bench;

/// <summary>This machine's own limits, measured in the same run as the model: read bandwidth and GEMM rate.</summary>
sealed unsafe class MachineLimits : IDisposable
{
    const long BandwidthBytes = 1L << 30; // far larger than every cache
    readonly float* _array;
    readonly float[] _x, _w, _y;
    const int GemmRows = 256, GemmIn = 1024, GemmOut = 1024;

    public MachineLimits()
    {
        _array = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)BandwidthBytes, 64);
        new Span<byte>(_array, (int)BandwidthBytes).Fill(1); // touch every page before timing
        var random = new Random(7);
        _x = Enumerable.Range(0, GemmRows * GemmIn).Select(_ => (float)random.NextDouble()).ToArray();
        _w = Enumerable.Range(0, GemmOut * GemmIn).Select(_ => (float)random.NextDouble()).ToArray();
        _y = new float[GemmRows * GemmOut];
    }

    /// <summary>GB/s of a vectorised sum over 1 GiB, split across every core like the model's matrix-vector products.</summary>
    public double ReadBandwidth()
    {
        long count = BandwidthBytes / sizeof(float);
        var state = new SumState { Data = _array, Count = count };
        var clock = Stopwatch.StartNew();
        CpuWorkers.Shared.For(1024, 1, &SumChunk, &state);
        return BandwidthBytes / clock.Elapsed.TotalSeconds / 1e9;
    }

    struct SumState
    {
        public float* Data;
        public long Count;
        public fixed float Sums[1024];
    }

    static void SumChunk(void* s, int start, int end)
    {
        var state = (SumState*)s;
        long per = state->Count / 1024;
        for (int c = start; c < end; c++)
        {
            float* p = state->Data + c * per;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (long i = 0; i < per; i += 32)
            {
                a0 += Vector256.Load(p + i); a1 += Vector256.Load(p + i + 8);
                a2 += Vector256.Load(p + i + 16); a3 += Vector256.Load(p + i + 24);
            }
            state->Sums[c] = Vector256.Sum(a0 + a1 + a2 + a3);
        }
    }

    /// <summary>GFLOP/s of the runtime's own GEMM on a cache-friendly [256×1024]·[1024×1024]ᵀ product.</summary>
    public double GemmRate()
    {
        var layer = new LinearWeights(WeightMatrix.FromFloat32(GemmOut, GemmIn, _w), null);
        var clock = Stopwatch.StartNew();
        CpuKernels.Linear(_x, GemmRows, layer, _y);
        return 2.0 * GemmRows * GemmIn * GemmOut / clock.Elapsed.TotalSeconds / 1e9;
    }

    public void Dispose() => System.Runtime.InteropServices.NativeMemory.AlignedFree(_array);
}
