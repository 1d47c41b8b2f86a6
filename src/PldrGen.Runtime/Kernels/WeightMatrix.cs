using System.Runtime.CompilerServices;

namespace PldrGen.Runtime.Kernels;

/// <summary>How a weight matrix is held in memory. Math is always float32.</summary>
public enum WeightPrecision
{
    /// <summary>4 bytes per weight.</summary>
    Float32,
    /// <summary>2 bytes per weight (the upper half of a float32): half the bytes a decode step streams.</summary>
    BFloat16,
    /// <summary>1 byte per weight with one float32 scale per 32 inputs of an output row, as llama.cpp's Q8_0: round to
    /// nearest of w / (max|block| / 127). Products run on integers, with activations quantised the same way.</summary>
    Int8,
    /// <summary>2 bytes per weight, IEEE half: 3 more mantissa bits than bfloat16, finite values up to ±65504 only.</summary>
    Float16,
}

/// <summary>
/// A Linear layer's weight [Rows = out, Cols = in], packed at load: output rows are grouped in panels of 16, and a
/// panel stores, for each input k in order, the 16 weights W[o, k] of its outputs side by side (zeros past the last
/// row). A kernel then keeps 16 outputs in two vector accumulators and streams one panel front to back: a decode
/// step reads the whole matrix as one sequential stream, and a prefill tile needs no horizontal sums. Panels start
/// on 64-byte lines in a pinned array, so kernels hold raw pointers.
/// An int8 panel is laid out for integer dot products instead: inputs are padded with zeros to blocks of 32, and for
/// each group of 4 inputs the panel stores the 4 bytes of output 0, then of output 1, …, of output 15 (64 bytes), so
/// one 32-byte load meets a broadcast of 4 activation bytes in <c>vpmaddubsw</c> and yields 8 outputs' sums with no
/// horizontal adds. Each panel has 16 scales per block, one per output.
/// </summary>
public sealed unsafe class WeightMatrix
{
    /// <summary>Outputs per panel: two Vector256 of float32.</summary>
    internal const int PanelWidth = 16;
    /// <summary>Inputs per int8 scale (and per activation scale).</summary>
    internal const int Int8Block = 32;
    readonly PanelMemory _panels;
    readonly float[]? _scales; // int8: [panel, block, 16]
    readonly int[]? _blockSums; // int8: Σ of each row's 32 weights of a block, [panel, block, 16], for AVX-VNNI tiles

    public int Rows { get; }
    public int Cols { get; }
    public WeightPrecision Precision { get; }
    internal int Panels => (Rows + PanelWidth - 1) / PanelWidth;
    /// <summary>Int8 blocks of 32 inputs per row.</summary>
    internal int Blocks => (Cols + Int8Block - 1) / Int8Block;
    /// <summary>Elements from one panel's start to the next.</summary>
    internal long PanelSize => (long)(Precision == WeightPrecision.Int8 ? Blocks * Int8Block : Cols) * PanelWidth;
    static int ElementSize(WeightPrecision precision) => precision switch { WeightPrecision.Float32 => 4, WeightPrecision.Int8 => 1, _ => 2 };

    WeightMatrix(int rows, int cols, WeightPrecision precision)
    {
        Rows = rows;
        Cols = cols;
        Precision = precision;
        _panels = new PanelMemory(Panels * PanelSize * ElementSize(precision));
        if (precision == WeightPrecision.Int8)
        {
            _scales = GC.AllocateArray<float>(Panels * Blocks * PanelWidth, pinned: true);
            _blockSums = GC.AllocateArray<int>(_scales.Length, pinned: true);
        }
    }

    /// <summary>Where element (r, c) lives, counted from the first panel.</summary>
    long Index(int r, int c) => r / PanelWidth * PanelSize + Precision switch
    {
        WeightPrecision.Int8 => (c >> 2) * (4 * PanelWidth) + r % PanelWidth * 4 + (c & 3),
        WeightPrecision.Float32 => (long)c * PanelWidth + r % PanelWidth,
        _ => (long)c * PanelWidth + Lane16(r % PanelWidth),
    };

    /// <summary>
    /// Where output j of an input's 16 sits in a 16-bit panel: outputs 4..7 and 8..11 trade places, so that
    /// unpacking each 128-bit half with zeros (vpunpcklwd / vpunpckhwd) yields outputs 0..7 and 8..15 as the upper
    /// halves of 32-bit lanes, one instruction per 8 weights.
    /// </summary>
    internal static int Lane16(int j) => (((j >> 2) ^ (j >> 3)) & 1) != 0 ? j ^ 12 : j;

    /// <summary>Where the int8 scale of row r's block b lives.</summary>
    int ScaleIndex(int r, int b) => (r / PanelWidth * Blocks + b) * PanelWidth + r % PanelWidth;

    /// <summary>A matrix from row-major float32 values (the checkpoint layout), held at the given precision.</summary>
    public static WeightMatrix FromFloat32(int rows, int cols, ReadOnlySpan<float> values, WeightPrecision precision = WeightPrecision.Float32)
    {
        Check(rows, cols, values.Length);
        var m = new WeightMatrix(rows, cols, precision);
        m.PackRows(0, values);
        return m;
    }

    /// <summary>A zero matrix that a loader fills a few rows at a time with <see cref="PackRows"/>.</summary>
    internal static WeightMatrix Allocate(int rows, int cols, WeightPrecision precision) => new(rows, cols, precision);

    /// <summary>Packs row-major float32 rows first, first + 1, … (as many as <paramref name="values"/> holds), each
    /// row into one column of its panel (every 16th element), quantised when the matrix is int8.</summary>
    internal void PackRows(int first, ReadOnlySpan<float> values)
    {
        for (int r = first; r < first + values.Length / Cols; r++)
        {
            var row = values.Slice((r - first) * Cols, Cols);
            if (Precision == WeightPrecision.Int8)
            {
                PackInt8Row(r, row);
                continue;
            }
            long at = Index(r, 0);
            switch (Precision)
            {
                case WeightPrecision.Float32:
                    for (int c = 0; c < Cols; c++, at += PanelWidth) Float32Pointer[at] = row[c];
                    break;
                case WeightPrecision.BFloat16:
                    for (int c = 0; c < Cols; c++, at += PanelWidth) Bits16Pointer[at] = Checkpoints.BFloat16.FromFloat(row[c]);
                    break;
                default:
                    for (int c = 0; c < Cols; c++, at += PanelWidth) Bits16Pointer[at] = ToHalfBits(row[c], r, c);
                    break;
            }
        }
    }

    /// <summary>The kernels widen halves with bit shifts that hold for finite values only, so the rest is refused.</summary>
    static ushort ToHalfBits(float value, int r, int c)
    {
        var half = (Half)value;
        if (!Half.IsFinite(half))
            throw new PldrException($"weight [{r}, {c}] is {value}, outside the float16 range (±65504): use bf16 or f32 weights");
        return BitConverter.HalfToUInt16Bits(half);
    }

    void PackInt8Row(int r, ReadOnlySpan<float> row)
    {
        for (int b = 0; b < Blocks; b++)
        {
            var block = row.Slice(b * Int8Block, Math.Min(Int8Block, Cols - b * Int8Block));
            float max = 0;
            foreach (float v in block) max = MathF.Max(max, MathF.Abs(v));
            float scale = _scales![ScaleIndex(r, b)] = max / 127;
            int sum = 0;
            for (int i = 0; i < block.Length; i++)
            {
                var q = scale == 0 ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(block[i] / scale), -127, 127);
                Int8Pointer[Index(r, b * Int8Block + i)] = q;
                sum += q;
            }
            _blockSums![ScaleIndex(r, b)] = sum;
        }
    }

    /// <summary>A bfloat16 matrix from row-major bfloat16 bits, kept as they are (lossless).</summary>
    public static WeightMatrix FromBFloat16(int rows, int cols, ReadOnlySpan<ushort> bits)
    {
        Check(rows, cols, bits.Length);
        var m = new WeightMatrix(rows, cols, WeightPrecision.BFloat16);
        for (int r = 0; r < rows; r++)
        {
            long at = m.Index(r, 0);
            foreach (ushort b in bits.Slice(r * cols, cols))
            {
                m.Bits16Pointer[at] = b;
                at += PanelWidth;
            }
        }
        return m;
    }

    static void Check(int rows, int cols, int length)
    {
        if (length != (long)rows * cols) throw new ArgumentException($"{length} values do not make a [{rows}, {cols}] matrix");
    }

    /// <summary>Panel 0 of a float32 matrix; panel p starts p·<see cref="PanelSize"/> elements later.</summary>
    internal float* Float32Pointer => (float*)_panels.Pointer;

    /// <summary>Panel 0 of a bfloat16 or float16 matrix.</summary>
    internal ushort* Bits16Pointer => (ushort*)_panels.Pointer;

    /// <summary>Element (r, c) as float32.</summary>
    public float this[int r, int c] => Precision switch
    {
        WeightPrecision.Float32 => Float32Pointer[Index(r, c)],
        WeightPrecision.BFloat16 => Checkpoints.BFloat16.ToFloat(Bits16Pointer[Index(r, c)]),
        WeightPrecision.Float16 => (float)BitConverter.UInt16BitsToHalf(Bits16Pointer[Index(r, c)]),
        _ => Int8Pointer[Index(r, c)] * _scales![ScaleIndex(r, c / Int8Block)],
    };

    /// <summary>Panel 0 of an int8 matrix.</summary>
    internal sbyte* Int8Pointer => (sbyte*)_panels.Pointer;

    /// <summary>The int8 scales: per panel, per block, one per output (16).</summary>
    internal float* ScalesPointer => (float*)Unsafe.AsPointer(ref _scales![0]);

    /// <summary>The int8 block sums, laid out as the scales.</summary>
    internal int* BlockSumsPointer => (int*)Unsafe.AsPointer(ref _blockSums![0]);

    /// <summary>The matrix unpacked to row-major float32 [Rows, Cols] (for backends with their own layout).</summary>
    public float[] ToRowMajor()
    {
        var values = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Cols; c++) values[(long)r * Cols + c] = this[r, c];
        return values;
    }

    /// <summary>destination = row r · scale (the embedding lookup).</summary>
    internal void CopyRow(int r, float scale, Span<float> destination)
    {
        for (int c = 0; c < Cols; c++) destination[c] = this[r, c] * scale;
    }
}
