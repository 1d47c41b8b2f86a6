using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Bench;

/// <summary>
/// Does handing the CPU kernels the spec's shapes as constants pay? RoPE at the demo model's shape (4 heads of 32,
/// interleaved pairs) three ways, interleaved round by round: the runtime's kernel with int parameters, the same
/// body with the shape as <c>const</c> fields (a per-spec specialised path), and the same body generic over a
/// struct whose static members carry the shape (the JIT compiles one copy per shape, with the values folded in).
/// </summary>
static class ConstShapeProbe
{
    const int Heads = 4, HeadDim = 32, Positions = 256;

    public static int Run()
    {
        var table = new RopeTable(Positions, HeadDim, 10000);
        foreach (int rows in new[] { 1, 128 })
        {
            var x = Enumerable.Range(0, rows * Heads * HeadDim).Select(i => (float)Math.Sin(i)).ToArray();
            int calls = 2_000_000 / rows;
            var samples = new List<double>[3];
            for (int v = 0; v < 3; v++) samples[v] = [];
            for (int round = 0; round < 9; round++)
                for (int v = 0; v < 3; v++)
                {
                    var clock = Stopwatch.StartNew();
                    for (int c = 0; c < calls; c++)
                    {
                        int start = rows == 1 ? c % Positions : 0;
                        if (v == 0) CpuKernels.Rope(x, rows, start, Heads, HeadDim, true, table);
                        else if (v == 1) RopeConst(x, rows, start, table);
                        else RopeShaped<DemoShape>(x, rows, start, table);
                    }
                    samples[v].Add(clock.Elapsed.TotalNanoseconds / calls);
                }
            var medians = samples.Select(s => s.Order().ElementAt(s.Count / 2)).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RoPE {rows,3} rows × {Heads}×{HeadDim}: int parameters {medians[0],8:F1} ns   const {medians[1],8:F1} ns ({medians[0] / medians[1]:F2}×)   generic shape {medians[2],8:F1} ns ({medians[0] / medians[2]:F2}×)"));
        }
        return 0;
    }

    interface IShape
    {
        static abstract int Heads { get; }
        static abstract int HeadDim { get; }
        static abstract bool Interleaved { get; }
    }

    struct DemoShape : IShape
    {
        public static int Heads => ConstShapeProbe.Heads;
        public static int HeadDim => ConstShapeProbe.HeadDim;
        public static bool Interleaved => true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // as the runtime's kernel
    static void RopeConst(Span<float> x, int rows, int start, RopeTable table)
    {
        const int half = HeadDim / 2, dim = Heads * HeadDim;
        const bool interleaved = true;
        for (int r = 0; r < rows; r++)
        {
            var cos = table.Cos(start + r);
            var sin = table.Sin(start + r);
            for (int h = 0; h < Heads; h++)
            {
                var head = x.Slice(r * dim + h * HeadDim, HeadDim);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RopeShaped<TShape>(Span<float> x, int rows, int start, RopeTable table) where TShape : struct, IShape
    {
        int half = TShape.HeadDim / 2, dim = TShape.Heads * TShape.HeadDim;
        for (int r = 0; r < rows; r++)
        {
            var cos = table.Cos(start + r);
            var sin = table.Sin(start + r);
            for (int h = 0; h < TShape.Heads; h++)
            {
                var head = x.Slice(r * dim + h * TShape.HeadDim, TShape.HeadDim);
                for (int i = 0; i < half; i++)
                {
                    int a = TShape.Interleaved ? 2 * i : i, b = TShape.Interleaved ? 2 * i + 1 : i + half;
                    float x0 = head[a], x1 = head[b];
                    head[a] = x0 * cos[i] - x1 * sin[i];
                    head[b] = x1 * cos[i] + x0 * sin[i];
                }
            }
        }
    }
}
