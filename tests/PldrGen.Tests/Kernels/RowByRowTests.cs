using PldrGen.Runtime.Kernels;
using Xunit;

namespace PldrGen.Tests.Kernels;

/// <summary>
/// Batched decode's matrix product (<see cref="CpuKernels.LinearPerRow"/>, several rows per panel pass) gives every
/// row the very bits a decode step computes for that row alone, at every precision, row count and input tail. The
/// AVX-512 kernel's panel pairs meet every pass size (2..6 rows, one to four passes) and a lone last panel (13, 40 and
/// 257 outputs); run with <c>DOTNET_EnableAVX512F=0</c> (Vector256 passes of three and two) and
/// <c>DOTNET_EnableAVX2=0</c> for the other paths.
/// </summary>
public sealed class RowByRowTests
{
    static float[] Random(int n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
    }

    public static TheoryData<int, int> Shapes => new() { { 13, 1 }, { 13, 2 }, { 13, 7 }, { 40, 33 }, { 130, 170 }, { 257, 896 }, { 70, 2389 } };

    [Theory, MemberData(nameof(Shapes))]
    public void Each_row_of_a_batch_is_bit_identical_to_the_row_alone(int outDim, int inDim)
    {
        var w = Random(outDim * inDim, 2);
        var bias = Random(outDim, 3);
        foreach (var precision in new[] { WeightPrecision.Float32, WeightPrecision.BFloat16, WeightPrecision.Float16, WeightPrecision.Int8 })
        {
            var layer = new LinearWeights(WeightMatrix.FromFloat32(outDim, inDim, w, precision), bias);
            foreach (int rows in new[] { 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 23 })
            {
                var x = Random(rows * inDim, rows);
                var together = new float[rows * outDim];
                CpuKernels.LinearPerRow(x, rows, layer, together);
                for (int r = 0; r < rows; r++)
                {
                    var alone = new float[outDim];
                    CpuKernels.Linear(x.AsSpan(r * inDim, inDim), 1, layer, alone);
                    Assert.True(alone.AsSpan().SequenceEqual(together.AsSpan(r * outDim, outDim)), $"{precision} [{outDim}×{inDim}], row {r} of {rows}: differs from the row alone");
                }
            }
        }
    }
}
