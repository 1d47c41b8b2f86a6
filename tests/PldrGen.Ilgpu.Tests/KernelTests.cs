using ILGPU;
using ILGPU.Runtime;
using PldrGen.Ilgpu.Tests.Models;
using PldrGen.Models;
using PldrGen.Runtime.Kernels;
using PldrGen.Tests;
using Xunit;
using Xunit.Abstractions;

namespace PldrGen.Ilgpu.Tests;

/// <summary>
/// Every kernel against its float32 reference in <see cref="CpuKernels"/>, on each test accelerator, with shapes that
/// leave remainders (odd-v510: D 36, dk 12, F 50) as well as the tiny fixture shape.
/// </summary>
[Collection(DeviceCollection.Name)]
public sealed class KernelTests(TestDevice device, ITestOutputHelper output)
{
    const double Tolerance = 1e-5;

    [Theory]
    [InlineData(1, 36, 36, true)]    // decode: dot-product kernel
    [InlineData(3, 50, 37, false)]   // a few rows, no bias
    [InlineData(13, 36, 108, true)]  // prefill: tiled kernel with remainders in every direction
    [InlineData(40, 170, 64, true)]
    [InlineData(8, 12, 14, false)]   // metric-learner GLU shape (dk → 2·Fa), smallest tiled case
    public void Linear_matches_the_reference(int rows, int inDim, int outDim, bool bias)
    {
        var data = new TestData(rows * 1000 + inDim);
        var layer = data.Linear(outDim, inDim, bias);
        var x = data.Floats(rows * inDim);
        var expected = new float[rows * outDim];
        CpuKernels.Linear(x, rows, layer, expected);
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var y = memory.Floats(rows * outDim);
            LayerKernels.For(accelerator).Linear(memory.Upload(x), rows, memory.Linear(layer), y);
            Check($"Linear {rows}×{inDim}→{outDim}", accelerator, expected, y);
        }
    }

    [Fact]
    public void Fused_linear_layers_write_their_outputs_side_by_side()
    {
        var data = new TestData(7);
        var (a, b) = (data.Linear(20, 36), data.Linear(30, 36));
        var x = data.Floats(9 * 36);
        var (ya, yb) = (new float[9 * 20], new float[9 * 30]);
        CpuKernels.Linear(x, 9, a, ya);
        CpuKernels.Linear(x, 9, b, yb);
        var expected = new float[9 * 50];
        for (int r = 0; r < 9; r++)
        {
            ya.AsSpan(r * 20, 20).CopyTo(expected.AsSpan(r * 50));
            yb.AsSpan(r * 30, 30).CopyTo(expected.AsSpan(r * 50 + 20));
        }
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var y = memory.Floats(9 * 50);
            LayerKernels.For(accelerator).Linear(memory.Upload(x), 9, memory.Linear(a, b), y);
            Check("fused Linear", accelerator, expected, y);
        }
    }

    [Theory]
    [InlineData(5, 36, false)]
    [InlineData(5, 36, true)]
    [InlineData(36, 12, true)]   // the metric learner's rows of dk
    [InlineData(2, 300, true)]   // wider than a group: threads stride over the row
    public void LayerNorm_matches_the_reference(int rows, int dim, bool residual)
    {
        var data = new TestData(rows + dim);
        var norm = data.Norm(dim);
        var x = data.Floats(rows * dim, -3, 3);
        var r = data.Floats(rows * dim);
        var expected = x.ToArray();
        if (residual) CpuKernels.Add(x, r, expected);
        CpuKernels.LayerNorm(expected, rows, norm, 1e-6f);
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var y = memory.Floats(rows * dim);
            LayerKernels.For(accelerator).LayerNorm(memory.Upload(x), residual ? memory.Upload(r) : default, y, memory.Norm(norm), rows, dim, 1e-6f);
            Check($"LayerNorm {rows}×{dim}", accelerator, expected, y);
        }
    }

    [Fact]
    public void LayerNorm_works_in_place()
    {
        var data = new TestData(3);
        var norm = data.Norm(36);
        var x = data.Floats(4 * 36, -2, 2);
        var r = data.Floats(4 * 36);
        var expected = new float[x.Length];
        CpuKernels.Add(x, r, expected);
        CpuKernels.LayerNorm(expected, 4, norm, 1e-6f);
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var inPlace = memory.Upload(x);
            LayerKernels.For(accelerator).LayerNorm(inPlace, memory.Upload(r), inPlace, memory.Norm(norm), 4, 36, 1e-6f);
            Check("LayerNorm in place", accelerator, expected, inPlace);
        }
    }

    [Theory]
    [InlineData(1, 36, 50)]
    [InlineData(11, 36, 50)]
    [InlineData(36, 12, 7)]
    public void Glu_matches_the_reference(int rows, int inDim, int hidden)
    {
        var data = new TestData(rows * 31 + hidden);
        var glu = data.Glu(inDim, hidden);
        var x = data.Floats(rows * inDim, -2, 2);
        var expected = new float[rows * inDim];
        CpuKernels.Glu(x, rows, glu, new float[rows * hidden], new float[rows * hidden], expected);
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var y = memory.Floats(rows * inDim);
            LayerKernels.For(accelerator).Glu(memory.Upload(x), rows, memory.Glu(glu), memory.Floats(rows * 2 * hidden), memory.Floats(rows * hidden), y);
            Check($"GLU {rows}×{inDim}→{hidden}", accelerator, expected, y);
        }
    }

    [Fact]
    public void Embed_matches_the_reference()
    {
        var data = new TestData(11);
        var embedding = WeightMatrix.FromFloat32(OddV510.VocabSize, OddV510.HiddenSize, data.Floats(OddV510.VocabSize * OddV510.HiddenSize));
        var tokens = data.Ints(10, OddV510.VocabSize);
        const int start = 4, count = 6;
        var expected = new float[count * OddV510.HiddenSize];
        CpuKernels.Embed(embedding, tokens.AsSpan(start, count), 6f, expected);
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var deviceTokens = memory.Ints(tokens.Length);
            DeviceMemory.Write(deviceTokens, tokens);
            var x = memory.Floats(count * OddV510.HiddenSize);
            OddV510Ilgpu.DeviceKernels.For(accelerator).Embed(deviceTokens, start, count, memory.Upload(embedding.ToRowMajor()), 6f, x);
            Check("Embed", accelerator, expected, x);
        }
    }

    [Fact]
    public void Interleaved_rope_splits_and_rotates_like_the_reference() =>
        CheckRope(OddV510.HiddenSize, OddV510.Heads, OddV510.HeadDim, OddV510.MaxPositions, OddV510.RopeTheta, interleaved: true,
            static a => OddV510Ilgpu.DeviceKernels.For(a).Rope);

    [Fact]
    public void Rotate_half_rope_splits_and_rotates_like_the_reference() =>
        CheckRope(RotateHalfV520.HiddenSize, RotateHalfV520.Heads, RotateHalfV520.HeadDim, RotateHalfV520.MaxPositions, RotateHalfV520.RopeTheta, interleaved: false,
            static a => RotateHalfV520Ilgpu.DeviceKernels.For(a).Rope);

    delegate void RopeLaunch(ArrayView<float> qkv, int start, int count, ArrayView<float> cos, ArrayView<float> sin,
        ArrayView<float> q, ArrayView<float> keys, ArrayView<float> values);

    void CheckRope(int dim, int heads, int headDim, int positions, double theta, bool interleaved, Func<Accelerator, RopeLaunch> kernel)
    {
        var data = new TestData(dim);
        const int start = 5, count = 7;
        var qkv = data.Floats(count * 3 * dim, -2, 2);
        var table = new RopeTable(positions, headDim, theta);
        var (q, k, v) = (new float[count * dim], new float[count * dim], new float[count * dim]);
        for (int t = 0; t < count; t++)
        {
            qkv.AsSpan(t * 3 * dim, dim).CopyTo(q.AsSpan(t * dim));
            qkv.AsSpan(t * 3 * dim + dim, dim).CopyTo(k.AsSpan(t * dim));
            qkv.AsSpan(t * 3 * dim + 2 * dim, dim).CopyTo(v.AsSpan(t * dim));
        }
        CpuKernels.Rope(q, count, start, heads, headDim, interleaved, table);
        CpuKernels.Rope(k, count, start, heads, headDim, interleaved, table);
        int half = headDim / 2;
        var (cos, sin) = (new float[positions * half], new float[positions * half]);
        for (int p = 0; p < positions; p++)
        {
            table.Cos(p).CopyTo(cos.AsSpan(p * half));
            table.Sin(p).CopyTo(sin.AsSpan(p * half));
        }
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var (dq, dk, dv) = (memory.Floats(count * dim), memory.Floats(positions * dim), memory.Floats(positions * dim));
            kernel(accelerator)(memory.Upload(qkv), start, count, memory.Upload(cos), memory.Upload(sin), dq, dk, dv);
            Check("RoPE q", accelerator, q, dq);
            Check("RoPE keys", accelerator, k, dk.SubView(start * dim, count * dim));
            Check("RoPE values", accelerator, v, dv.SubView(start * dim, count * dim));
            Assert.All(Download(dk.SubView(0, start * dim)), value => Assert.Equal(0f, value)); // rows before start untouched
        }
    }

    [Fact]
    public void Metric_tensor_matches_the_reference()
    {
        var data = new TestData(13);
        const int count = 9;
        var q = data.Floats(count * OddV510.HiddenSize, -2, 2);
        var expected = new float[OddV510.Heads * OddV510.HeadDim * OddV510.HeadDim];
        CpuKernels.MetricTensor(q, count, OddV510.Heads, OddV510.HeadDim, expected);
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var a = memory.Floats(expected.Length);
            OddV510Ilgpu.DeviceKernels.For(accelerator).MetricTensor(memory.Upload(q), count, a);
            Check("metric tensor", accelerator, expected, a);
        }
    }

    [Fact]
    public void Power_law_matches_the_reference()
    {
        var data = new TestData(17);
        const int heads = OddV510.Heads, dk = OddV510.HeadDim, size = heads * dk * dk;
        float s = 1f / MathF.Sqrt(dk);
        var plga = new PlgaWeights(data.Floats(size, -s, s), data.Floats(size, -0.1f, 0.1f), data.Floats(size, -1.5f, 1.5f),
            data.Floats(size, -s, s), data.Floats(size, -0.1f, 0.1f));
        var a = data.Floats(size, -2, 2);
        var (aLm, g) = (new float[size], new float[size]);
        CpuKernels.PowerLaw(a, plga, heads, dk, aLm, g, new float[heads * dk * dk]);
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var (dLm, dg) = (memory.Floats(size), memory.Floats(size));
            OddV510Ilgpu.DeviceKernels.For(accelerator).PowerLaw(memory.Upload(a), memory.Plga(plga), dLm, dg, memory.Floats(size));
            // The power amplifies rounding (tiny A_LM to negative powers): compare relative to each value.
            Check("A_LM", accelerator, aLm, dLm, relTol: 1e-5);
            Check("G_LM", accelerator, g, dg, relTol: 1e-4);
        }
    }

    [Theory]
    [InlineData(0, 9)]   // prefill
    [InlineData(9, 1)]   // a decode step
    [InlineData(4, 6)]   // prefill-sized block after cached positions (no-KV-cache re-runs start at 0; this covers the general case)
    [InlineData(0, 40)]  // every position of the context
    public void Attention_matches_the_reference(int start, int count)
    {
        var data = new TestData(start * 100 + count);
        const int dim = OddV510.HiddenSize, heads = OddV510.Heads, dk = OddV510.HeadDim, positions = OddV510.MaxPositions;
        var q = data.Floats(count * dim, -2, 2);
        var g = data.Floats(heads * dk * dk, -0.5f, 0.5f);
        var keys = data.Floats(positions * dim, -2, 2);
        var values = data.Floats(positions * dim, -2, 2);
        var expected = new float[count * dim];
        CpuKernels.PowerLawAttention(q, count, start, heads, dk, g, keys, values, expected, new float[heads * positions], new float[heads * dk]);
        foreach (var accelerator in device.KernelAccelerators)
        {
            using var memory = new DeviceMemory(accelerator);
            var result = memory.Floats(count * dim);
            OddV510Ilgpu.DeviceKernels.For(accelerator).Attention(memory.Upload(q), start, count, memory.Upload(g), memory.Upload(keys),
                memory.Upload(values), result, MathF.Sqrt(dk));
            Check($"attention start {start} count {count}", accelerator, expected, result);
        }
    }

    void Check(string what, Accelerator accelerator, float[] expected, ArrayView<float> actual, double relTol = 0)
    {
        var errors = Compare.AssertClose($"{what} on {accelerator.Name} ({accelerator.MaxNumThreadsPerGroup} threads/group)", expected, Download(actual), Tolerance, relTol);
        output.WriteLine($"{what} on {accelerator.Name}: {errors}");
    }

    static float[] Download(ArrayView<float> view)
    {
        var host = new float[view.Length];
        DeviceMemory.Read(view, host);
        return host;
    }
}
