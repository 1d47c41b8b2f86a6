using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Kernels;
using Xunit;

namespace PldrGen.Tests.Kernels;

/// <summary>Every fast CPU kernel against a plain float64 loop, over shapes that hit each tail and panel edge.</summary>
public sealed class CpuKernelTests
{
    static float[] Random(int n, int seed)
    {
        var random = new Random(seed);
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    public static TheoryData<int, int, int> LinearShapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int rows in new[] { 1, 3, 4, 5, 9 })
            foreach (int outDim in new[] { 1, 4, 6, 13 })
                foreach (int inDim in new[] { 1, 7, 8, 15, 16, 17, 33, 170 })
                    data.Add(rows, outDim, inDim);
        data.Add(1, 257, 2389);  // the 110M feed-forward down projection, parallel
        data.Add(7, 130, 2389);
        data.Add(128, 68, 896);
        return data;
    }

    /// <summary>
    /// Activations that int8 products quantise without loss: in each block of 32 inputs of a row the first is ±1 and
    /// the rest are whole multiples of 1/127, so max|block| / 127 = 1/127 and every value is an exact level.
    /// </summary>
    static float[] Int8GridActivations(int rows, int inDim, int seed)
    {
        var random = new Random(seed);
        var x = new float[rows * inDim];
        for (int i = 0; i < x.Length; i++)
            x[i] = i % inDim % WeightMatrix.Int8Block == 0 ? random.Next(2) * 2 - 1 : random.Next(-127, 128) / 127f;
        return x;
    }

    [Theory, MemberData(nameof(LinearShapes))]
    public void Linear_matches_a_float64_loop_at_every_precision(int rows, int outDim, int inDim)
    {
        var x = Int8GridActivations(rows, inDim, 1);
        var w = Random(outDim * inDim, 2);
        var bias = Random(outDim, 3);
        var runs = new[] { WeightPrecision.Float32, WeightPrecision.BFloat16, WeightPrecision.Float16 }.Select(p => (p, (Int8Kernel?)null))
            .Concat(Int8Kernels.Select(k => (WeightPrecision.Int8, (Int8Kernel?)k)));
        foreach (var (precision, int8) in runs)
        {
            // Narrow weights are judged against the weights they hold (rounded, or quantised and scaled), so every
            // path must agree with the float64 loop to float32 rounding.
            var matrix = WeightMatrix.FromFloat32(outDim, inDim, w, precision);
            var y = new float[rows * outDim];
            MatMul.Linear(x, rows, matrix, bias, y, int8: int8);
            Compare.AssertClose($"{precision} {int8} [{rows}×{inDim}]·[{outDim}×{inDim}]ᵀ",
                Float64Linear(x, rows, matrix, bias), y.Select(v => (double)v).ToArray(), 1e-5 * Math.Sqrt(inDim), 1e-5);
        }
    }

    [Theory]
    [InlineData(2, 1, 7), InlineData(5, 13, 33), InlineData(7, 70, 170), InlineData(13, 130, 64), InlineData(24, 257, 96), InlineData(128, 68, 896)]
    public void Prefill_products_have_the_same_bits_on_every_path(int rows, int outDim, int inDim)
    {
        // The prefill tiles (AVX-512 6 rows × 4 panels, AVX2 6 × 1, software Vector256) promise one arithmetic: in a
        // whole tile of 6 rows y = fma(x[k−1], w, … fma(x[0], w, 0)) + b; the rows mod 6 left after the last tile sum
        // even and odd inputs apart, as a decode row, then add. .ci/run runs the kernel tests again under
        // DOTNET_EnableAVX512F=0 and DOTNET_EnableAVX2=0, so every path meets this one scalar definition.
        var x = Random(rows * inDim, 11);
        var bias = Random(outDim, 12);
        foreach (var precision in new[] { WeightPrecision.Float32, WeightPrecision.BFloat16, WeightPrecision.Float16 })
        {
            var w = WeightMatrix.FromFloat32(outDim, inDim, Random(outDim * inDim, 13), precision);
            var y = new float[rows * outDim];
            MatMul.Linear(x, rows, w, bias, y);
            for (int t = 0; t < rows; t++)
                for (int o = 0; o < outDim; o++)
                {
                    bool tiled = t < rows - rows % 6;
                    float even = 0, odd = 0;
                    for (int i = 0; i < inDim; i++)
                    {
                        if (tiled || i % 2 == 0) even = MathF.FusedMultiplyAdd(x[t * inDim + i], w[o, i], even);
                        else odd = MathF.FusedMultiplyAdd(x[t * inDim + i], w[o, i], odd);
                    }
                    float expected = (tiled ? even : even + odd) + bias[o];
                    Assert.True(expected == y[t * outDim + o], $"{precision} [{rows}×{inDim}]·[{outDim}×{inDim}]ᵀ: y[{t}, {o}] is {y[t * outDim + o]}, not {expected}");
                }
        }
    }

    /// <summary>
    /// Products of one input run together (Q, K, V; a GLU's W1 and W2: one parallel loop, x quantised once) give each
    /// product's bits alone, at every precision, for a decode row, batched rows and prefill tiles.
    /// </summary>
    [Theory]
    [InlineData(1, 896, false), InlineData(1, 33, false), InlineData(3, 170, true), InlineData(5, 96, true), InlineData(7, 170, false), InlineData(13, 64, false)]
    public void Products_of_one_input_run_together_give_each_its_bits_alone(int rows, int inDim, bool rowByRow)
    {
        var x = Random(rows * inDim, 21);
        int[] outs = [130, 257, 68];
        foreach (var precision in new[] { WeightPrecision.Float32, WeightPrecision.BFloat16, WeightPrecision.Float16, WeightPrecision.Int8 })
        {
            var w = outs.Select((o, i) => WeightMatrix.FromFloat32(o, inDim, Random(o * inDim, 22 + i), precision)).ToArray();
            var b = outs.Select((o, i) => Random(o, 32 + i)).ToArray();
            var alone = outs.Select((o, i) =>
            {
                var y = new float[rows * o];
                MatMul.Linear(x, rows, w[i], b[i], y, rowByRow);
                return y;
            }).ToArray();
            var three = outs.Select(o => new float[rows * o]).ToArray();
            MatMul.LinearEach(x, rows, rowByRow, w[0], b[0], three[0], w[1], b[1], three[1], w[2], b[2], three[2]);
            var two = outs.Take(2).Select(o => new float[rows * o]).ToArray();
            MatMul.LinearEach(x, rows, rowByRow, w[0], b[0], two[0], w[1], b[1], two[1]);
            for (int i = 0; i < 3; i++) Assert.True(alone[i].SequenceEqual(three[i]), $"{precision} rows {rows}: product {i} of three differs from alone");
            for (int i = 0; i < 2; i++) Assert.True(alone[i].SequenceEqual(two[i]), $"{precision} rows {rows}: product {i} of two differs from alone");
        }
    }

    /// <summary>
    /// A GLU's gated product (both halves in one pass) gives the bits of its two products, each exactly as
    /// <see cref="MatMul.Linear"/> computes it, gated by g·u / (1 + e^−g) with the kernels' exp, output by output.
    /// </summary>
    [Theory]
    [InlineData(2, 13, 7, true), InlineData(7, 170, 64, true), InlineData(13, 170, 64, false), InlineData(9, 32, 33, false)]
    public void A_gated_product_has_the_bits_of_its_two_products(int rows, int outDim, int inDim, bool withBias)
    {
        var x = Random(rows * inDim, 21);
        float[]? b1 = withBias ? Random(outDim, 22) : null, b2 = withBias ? Random(outDim, 23) : null;
        foreach (var precision in new[] { WeightPrecision.Float32, WeightPrecision.BFloat16, WeightPrecision.Float16 })
        {
            var w1 = WeightMatrix.FromFloat32(outDim, inDim, Random(outDim * inDim, 24), precision);
            var w2 = WeightMatrix.FromFloat32(outDim, inDim, Random(outDim * inDim, 25), precision);
            Assert.True(MatMul.CanGate(rows, w1, w2));
            var (g, u, y) = (new float[rows * outDim], new float[rows * outDim], new float[rows * outDim]);
            MatMul.Linear(x, rows, w1, b1, g);
            MatMul.Linear(x, rows, w2, b2, u);
            MatMul.GatedLinear(x, rows, w1, b1, w2, b2, y);
            for (int i = 0; i < y.Length; i++)
            {
                float expected = g[i] * u[i] / (1f + Vec.Exp(System.Runtime.Intrinsics.Vector256.Create(-g[i]))[0]);
                Assert.True(expected == y[i], $"{precision} [{rows}×{inDim}]·[{outDim}×{inDim}]ᵀ bias {withBias}: y[{i / outDim}, {i % outDim}] is {y[i]}, not {expected}");
            }
        }
        Assert.False(MatMul.CanGate(1, WeightMatrix.FromFloat32(4, 4, new float[16]), WeightMatrix.FromFloat32(4, 4, new float[16])));
        Assert.False(MatMul.CanGate(2, WeightMatrix.FromFloat32(4, 32, new float[128], WeightPrecision.Int8), WeightMatrix.FromFloat32(4, 32, new float[128], WeightPrecision.Int8)));
    }

    /// <summary>Every int8 kernel this CPU can run (the portable one always).</summary>
    static IEnumerable<Int8Kernel> Int8Kernels => Enum.GetValues<Int8Kernel>().Where(k => k <= MatMul.BestInt8Kernel);

    static double[] Float64Linear(float[] x, int rows, WeightMatrix w, float[] bias)
    {
        var y = new double[rows * w.Rows];
        for (int t = 0; t < rows; t++)
            for (int o = 0; o < w.Rows; o++)
            {
                double sum = bias[o];
                for (int i = 0; i < w.Cols; i++) sum += (double)x[t * w.Cols + i] * w[o, i];
                y[t * w.Rows + o] = sum;
            }
        return y;
    }

    [Theory]
    [InlineData(1, 13, 33), InlineData(9, 40, 170), InlineData(6, 17, 2389)]
    public void Int8_products_round_each_activation_block_to_its_own_scale(int rows, int outDim, int inDim)
    {
        // Any activations: each x moves by at most half a level of its block (max|block| / 254), so each output by at
        // most Σ |w|·that; tiles and single rows of every kernel stay inside it.
        var x = Random(rows * inDim, 7);
        var w = WeightMatrix.FromFloat32(outDim, inDim, Random(outDim * inDim, 8), WeightPrecision.Int8);
        var bias = new float[outDim];
        var expected = Float64Linear(x, rows, w, bias);
        foreach (var (rowByRow, int8) in Int8Kernels.SelectMany(k => new[] { (false, k), (true, k) }))
        {
            var y = new float[rows * outDim];
            MatMul.Linear(x, rows, w, bias, y, rowByRow, int8);
            for (int t = 0; t < rows; t++)
                for (int o = 0; o < outDim; o++)
                {
                    double bound = 1e-5;
                    for (int i = 0; i < inDim; i++)
                    {
                        int block = i / WeightMatrix.Int8Block * WeightMatrix.Int8Block;
                        double max = x.AsSpan(t * inDim + block, Math.Min(WeightMatrix.Int8Block, inDim - block)).ToArray().Max(MathF.Abs);
                        bound += Math.Abs(w[o, i]) * max / 254;
                    }
                    double error = Math.Abs(y[t * outDim + o] - expected[t * outDim + o]);
                    Assert.True(error <= bound, $"rowByRow {rowByRow}, {int8}: y[{t}, {o}] is {error} off, more than {bound}");
                }
        }
    }

    [Fact]
    public void Int8_tiles_single_rows_and_instruction_sets_agree_bit_for_bit()
    {
        var x = Random(9 * 200, 9);
        var w = WeightMatrix.FromFloat32(20, 200, Random(20 * 200, 10), WeightPrecision.Int8);
        var alone = new float[9 * 20];
        MatMul.Linear(x, 9, w, null, alone, rowByRow: true);
        foreach (var (rowByRow, int8) in Int8Kernels.Where(k => k != Int8Kernel.Portable).SelectMany(k => new[] { (false, k), (true, k) }))
        {
            var y = new float[9 * 20];
            MatMul.Linear(x, 9, w, null, y, rowByRow, int8);
            Assert.Equal(alone, y);
        }
    }

    [Fact]
    public void Int8_weights_are_quantised_per_block_of_32_inputs()
    {
        var w = new float[2 * 40];
        w[0] = 0.5f; w[1] = -1f; w[2] = 0.25f; w[32] = 0.1f; w[33] = 0.03f; // row 0: inputs 0..31 and 32..39
        w[40 + 6] = 2f; w[40 + 7] = -0.02f;                                  // row 1
        var m = WeightMatrix.FromFloat32(2, 40, w, WeightPrecision.Int8);
        Assert.Equal(-1f, m[0, 1]);                                           // a block's largest |w| maps to ±127 exactly
        Assert.Equal(MathF.Round(0.25f * 127) / 127, m[0, 2]);               // the rest to the nearest of 255 levels
        Assert.Equal(0.1f, m[0, 32], 6);                                      // the second block has its own scale
        Assert.Equal(MathF.Round(0.03f / (0.1f / 127)) * (0.1f / 127), m[0, 33]);
        Assert.Equal(2f, m[1, 6]);
        Assert.Equal(0f, m[1, 0]);
        Assert.Equal(MathF.Round(-0.02f / (2f / 127)) * (2f / 127), m[1, 7]);
    }

    [Fact]
    public void Every_finite_float16_weight_widens_exactly_in_the_kernels()
    {
        // All 63,488 finite halves (subnormals, ±0 and ±65504 included) as a [62, 1024] matrix; x = the identity, so
        // y = Wᵀ exactly when every weight widens to its own value, through prefill tiles and decode rows alike.
        var values = Enumerable.Range(0, 1 << 16).Select(b => BitConverter.UInt16BitsToHalf((ushort)b)).Where(Half.IsFinite).Select(h => (float)h).ToArray();
        const int rows = 62, cols = 1024;
        Assert.Equal(rows * cols, values.Length);
        var w = WeightMatrix.FromFloat32(rows, cols, values, WeightPrecision.Float16);
        var identity = new float[cols * cols];
        for (int i = 0; i < cols; i++) identity[i * cols + i] = 1;
        var y = new float[cols * rows];
        MatMul.Linear(identity, cols, w, null, y);
        var decoded = new float[cols * rows];
        MatMul.Linear(identity, cols, w, null, decoded, rowByRow: true);
        for (int o = 0; o < rows; o++)
            for (int i = 0; i < cols; i++)
            {
                Assert.Equal(values[o * cols + i], y[i * rows + o]);
                Assert.Equal(values[o * cols + i], decoded[i * rows + o]);
            }
    }

    [Theory]
    [InlineData(WeightPrecision.Float16)]
    [InlineData(WeightPrecision.BFloat16)]
    public void Every_16_bit_weight_widens_exactly_in_a_lone_decode_row(WeightPrecision precision)
    {
        // One row at a time takes the decode row (its AVX-512 form where the CPU has it), never a widened panel.
        var values = Enumerable.Range(0, 1 << 16).Select(b => precision == WeightPrecision.Float16
                ? (float)BitConverter.UInt16BitsToHalf((ushort)b) : BFloat16.ToFloat((ushort)b))
            .Where(float.IsFinite).Take(62 * 1024).ToArray();
        const int rows = 62, cols = 1024;
        var w = WeightMatrix.FromFloat32(rows, cols, values, precision);
        var x = new float[cols];
        var y = new float[rows];
        for (int i = 0; i < cols; i++)
        {
            x[i] = 1;
            MatMul.Linear(x, 1, w, null, y);
            for (int o = 0; o < rows; o++) Assert.Equal(values[o * cols + i], y[o]);
            x[i] = 0;
        }
    }

    [Fact]
    public void A_weight_outside_the_float16_range_is_refused()
    {
        var e = Assert.Throws<PldrGen.Runtime.PldrException>(() => WeightMatrix.FromFloat32(1, 3, [1f, -70000f, 2f], WeightPrecision.Float16));
        Assert.Equal("weight [0, 1] is -70000, outside the float16 range (±65504): use bf16 or f32 weights", e.Message);
    }

    [Fact]
    public void A_bfloat16_checkpoint_matrix_stays_bfloat16_and_exact()
    {
        var w = Random(6 * 40, 4).Select(BFloat16.FromFloat).ToArray();
        var m = WeightMatrix.FromBFloat16(6, 40, w);
        Assert.Equal(WeightPrecision.BFloat16, m.Precision);
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 40; c++) Assert.Equal(BFloat16.ToFloat(w[r * 40 + c]), m[r, c]);
    }

    [Theory]
    [InlineData(1, 0, 3, 4), InlineData(5, 0, 2, 6), InlineData(1, 9, 4, 16), InlineData(3, 4, 14, 64)]
    public void Attention_matches_a_float64_loop(int rows, int start, int heads, int headDim)
    {
        int dim = heads * headDim, positions = start + rows;
        var q = Random(rows * dim, 5);
        var g = Random(heads * headDim * headDim, 6);
        var keys = Random(positions * dim, 7);
        var values = Random(positions * dim, 8);
        var output = new float[rows * dim];
        CpuKernels.PowerLawAttention(q, rows, start, heads, headDim, g, keys, values, output, new float[heads * positions], new float[heads * headDim]);

        var expected = new double[rows * dim];
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
            {
                int visible = start + r + 1;
                var qg = new double[headDim];
                for (int j = 0; j < headDim; j++)
                    for (int i = 0; i < headDim; i++) qg[j] += q[r * dim + h * headDim + i] * (double)g[h * headDim * headDim + i * headDim + j];
                var scores = new double[visible];
                for (int p = 0; p < visible; p++)
                {
                    for (int j = 0; j < headDim; j++) scores[p] += qg[j] * keys[p * dim + h * headDim + j];
                    scores[p] /= Math.Sqrt(headDim);
                }
                double max = scores.Max(), total = scores.Sum(s => Math.Exp(s - max));
                for (int p = 0; p < visible; p++)
                    for (int j = 0; j < headDim; j++)
                        expected[r * dim + h * headDim + j] += Math.Exp(scores[p] - max) / total * values[p * dim + h * headDim + j];
            }
        Compare.AssertClose("attention", expected, output.Select(v => (double)v).ToArray(), 1e-5);
    }

    [Theory]
    [InlineData(1, 2, 4), InlineData(7, 3, 12), InlineData(5, 1, 6), InlineData(9, 2, 34), InlineData(20, 14, 64)]
    public void Metric_tensor_matches_a_float64_loop(int rows, int heads, int headDim)
    {
        int dim = heads * headDim;
        var q = Random(rows * dim, 9);
        var a = new float[heads * headDim * headDim];
        CpuKernels.MetricTensor(q, rows, heads, headDim, a);
        var expected = new double[a.Length];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < headDim; i++)
                for (int j = 0; j < headDim; j++)
                    for (int s = 0; s < rows; s++)
                        expected[(h * headDim + i) * headDim + j] += (double)q[s * dim + h * headDim + i] * q[s * dim + h * headDim + j];
        Compare.AssertClose("QᵀQ", expected, a.Select(v => (double)v).ToArray(), 1e-5);
    }

    /// <summary>dk 64 runs in whole 4 × 16 tiles, 34 and 20 add tail rows and columns, 6 runs output by output.</summary>
    [Theory]
    [InlineData(2, 6), InlineData(1, 20), InlineData(2, 34), InlineData(3, 64)]
    public void Power_law_matches_a_float64_loop(int heads, int headDim)
    {
        int size = heads * headDim * headDim;
        var a = Random(size, 13);
        var plga = new PlgaWeights(Random(size, 14), Random(size, 15), Random(size, 16), Random(size, 17), Random(size, 18));
        var (aLm, g) = (new float[size], new float[size]);
        CpuKernels.PowerLaw(a, plga, heads, headDim, aLm, g, new float[size]);

        var (expectedALm, expectedG) = (new double[size], new double[size]);
        var aP = new double[size];
        for (int h = 0; h < heads; h++)
        {
            int at = h * headDim * headDim;
            for (int i = 0; i < headDim; i++)
                for (int j = 0; j < headDim; j++)
                {
                    double z = plga.B[at + i * headDim + j];
                    for (int k = 0; k < headDim; k++) z += (double)plga.W[at + i * headDim + k] * a[at + k * headDim + j];
                    expectedALm[at + i * headDim + j] = z * z / (1 + Math.Exp(-z)) + 1e-9;
                    aP[at + i * headDim + j] = Math.Pow(expectedALm[at + i * headDim + j], plga.Pw[at + i * headDim + j]);
                }
            for (int i = 0; i < headDim; i++)
                for (int j = 0; j < headDim; j++)
                {
                    double sum = plga.Beta[at + i * headDim + j];
                    for (int k = 0; k < headDim; k++) sum += (double)plga.Alpha[at + i * headDim + k] * aP[at + k * headDim + j];
                    expectedG[at + i * headDim + j] = sum;
                }
        }
        Compare.AssertClose("A_LM", expectedALm, aLm.Select(v => (double)v).ToArray(), 1e-6, 1e-5);
        Compare.AssertClose("G_LM", expectedG, g.Select(v => (double)v).ToArray(), 1e-4 * Math.Sqrt(headDim), 1e-5);
    }

    /// <summary>The power law's double exp and log against Math's, in ulps of the double result, over their whole range.</summary>
    [Fact]
    public void Double_exp_and_log_are_within_2_ulps_of_Math()
    {
        static double Ulps(double actual, double expected) => Math.Abs(actual - expected) / (Math.BitIncrement(Math.Abs(expected)) - Math.Abs(expected));
        var random = new Random(31);
        double worstExp = 0, worstLog = 0;
        for (int i = 0; i < 20000; i++)
        {
            double x = (random.NextDouble() * 2 - 1) * 700;
            worstExp = Math.Max(worstExp, Ulps(Vec.ExpDouble(System.Runtime.Intrinsics.Vector256.Create(x))[0], Math.Exp(x)));
            double y = i % 2 == 0 ? Math.Exp((random.NextDouble() * 2 - 1) * 700) : 1 + (random.NextDouble() * 2 - 1) * 1e-3;
            worstLog = Math.Max(worstLog, Ulps(Vec.LogDouble(System.Runtime.Intrinsics.Vector256.Create(y))[0], Math.Log(y)));
        }
        Assert.True(worstExp <= 2 && worstLog <= 2, $"exp within {worstExp:F2} ulps, log within {worstLog:F2}");
        Assert.Equal(float.PositiveInfinity, (float)Vec.ExpDouble(System.Runtime.Intrinsics.Vector256.Create(1000.0))[0]);
        Assert.Equal(0f, (float)Vec.ExpDouble(System.Runtime.Intrinsics.Vector256.Create(-1000.0))[0]);
        Assert.True(double.IsNaN(Vec.ExpDouble(System.Runtime.Intrinsics.Vector256.Create(double.NaN))[0]));
        Assert.Equal(double.PositiveInfinity, Vec.LogDouble(System.Runtime.Intrinsics.Vector256.Create(double.PositiveInfinity))[0]);
        Assert.True(double.IsNaN(Vec.LogDouble(System.Runtime.Intrinsics.Vector256.Create(double.NaN))[0]));
    }

    [Fact]
    public void Layer_norm_and_rope_match_float64_loops()
    {
        const int rows = 3, dim = 24, heads = 2, headDim = 12;
        var x = Random(rows * dim, 10);
        var weight = Random(dim, 11);
        var bias = Random(dim, 12);
        var normed = (float[])x.Clone();
        CpuKernels.LayerNorm(normed, rows, new NormWeights(weight, bias), 1e-6f);
        var expected = new double[rows * dim];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Skip(r * dim).Take(dim).Select(v => (double)v).ToArray();
            double mean = row.Average(), variance = row.Select(v => (v - mean) * (v - mean)).Average();
            for (int i = 0; i < dim; i++) expected[r * dim + i] = (row[i] - mean) / Math.Sqrt(variance + 1e-6) * weight[i] + bias[i];
        }
        Compare.AssertClose("layer norm", expected, normed.Select(v => (double)v).ToArray(), 1e-5);

        foreach (bool interleaved in new[] { true, false })
        {
            var rotated = (float[])x.Clone();
            CpuKernels.Rope(rotated, rows, 5, heads, headDim, interleaved, new RopeTable(16, headDim, 10000));
            for (int r = 0; r < rows; r++)
                for (int h = 0; h < heads; h++)
                    for (int i = 0; i < headDim / 2; i++)
                    {
                        int a = r * dim + h * headDim + (interleaved ? 2 * i : i), b = interleaved ? a + 1 : a + headDim / 2;
                        double angle = (5 + r) * Math.Pow(10000, -2.0 * i / headDim);
                        expected[a] = x[a] * Math.Cos(angle) - x[b] * Math.Sin(angle);
                        expected[b] = x[b] * Math.Cos(angle) + x[a] * Math.Sin(angle);
                    }
            Compare.AssertClose($"rope interleaved={interleaved}", expected, rotated.Select(v => (double)v).ToArray(), 1e-5);
        }
    }
}
