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
