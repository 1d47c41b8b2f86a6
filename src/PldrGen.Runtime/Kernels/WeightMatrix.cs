using System.Runtime.CompilerServices;

namespace PldrGen.Runtime.Kernels;

/// <summary>How a weight matrix is held in memory. Math is always float32.</summary>
public enum WeightPrecision
{
    /// <summary>4 bytes per weight.</summary>
    Float32,
    /// <summary>2 bytes per weight (the upper half of a float32): half the bytes a decode step streams.</summary>
    BFloat16,
    /// <summary>1 byte per weight with one float32 scale per output row (round to nearest of w / (max|row| / 127)).</summary>
    Int8,
}

/// <summary>
/// A Linear layer's weight [Rows = out, Cols = in], packed at load: output rows are grouped in panels of 16, and a
/// panel stores, for each input k in order, the 16 weights W[o, k] of its outputs side by side (zeros past the last
/// row). A kernel then keeps 16 outputs in two vector accumulators and streams one panel front to back: a decode
/// step reads the whole matrix as one sequential stream, and a prefill tile needs no horizontal sums. Panels start
/// on 64-byte lines in a pinned array, so kernels hold raw pointers.
/// </summary>
public sealed unsafe class WeightMatrix
{
    /// <summary>Outputs per panel: two Vector256 of float32.</summary>
    internal const int PanelWidth = 16;
    const int Alignment = 64;
    readonly float[]? _float32;
    readonly ushort[]? _bfloat16;
    readonly sbyte[]? _int8;
    readonly float[]? _scales; // int8: one per output row, padded to whole panels
    readonly int _offset; // elements from the array start to the first 64-byte-aligned element

    public int Rows { get; }
    public int Cols { get; }
    public WeightPrecision Precision { get; }
    internal int Panels => (Rows + PanelWidth - 1) / PanelWidth;
    /// <summary>Elements from one panel's start to the next.</summary>
    internal long PanelSize => (long)Cols * PanelWidth;
    static int ElementSize(WeightPrecision precision) => precision switch { WeightPrecision.Float32 => 4, WeightPrecision.BFloat16 => 2, _ => 1 };

    WeightMatrix(int rows, int cols, WeightPrecision precision)
    {
        Rows = rows;
        Cols = cols;
        Precision = precision;
        int size = ElementSize(precision);
        long length = Panels * PanelSize + Alignment / size;
        if (length > Array.MaxLength) throw new PldrException($"a [{rows}, {cols}] weight matrix is too large for one array");
        switch (precision)
        {
            case WeightPrecision.Float32:
                _float32 = GC.AllocateArray<float>((int)length, pinned: true);
                _offset = AlignedOffset(ref Unsafe.As<float, byte>(ref _float32[0]), size);
                break;
            case WeightPrecision.BFloat16:
                _bfloat16 = GC.AllocateArray<ushort>((int)length, pinned: true);
                _offset = AlignedOffset(ref Unsafe.As<ushort, byte>(ref _bfloat16[0]), size);
                break;
            default:
                _int8 = GC.AllocateArray<sbyte>((int)length, pinned: true);
                _offset = AlignedOffset(ref Unsafe.As<sbyte, byte>(ref _int8[0]), size);
                _scales = GC.AllocateArray<float>(Panels * PanelWidth, pinned: true);
                break;
        }
    }

    static int AlignedOffset(ref byte first, int size) => (int)((Alignment - (nint)Unsafe.AsPointer(ref first) % Alignment) % Alignment / size);

    /// <summary>Where element (r, c) lives, counted from the first panel.</summary>
    long Index(int r, int c) => r / PanelWidth * PanelSize + (long)c * PanelWidth + r % PanelWidth;

    /// <summary>A matrix from row-major float32 values (the checkpoint layout), held at the given precision.</summary>
    public static WeightMatrix FromFloat32(int rows, int cols, ReadOnlySpan<float> values, WeightPrecision precision = WeightPrecision.Float32)
    {
        Check(rows, cols, values.Length);
        var m = new WeightMatrix(rows, cols, precision);
        var scales = new float[rows];
        if (precision == WeightPrecision.Int8)
            for (int r = 0; r < rows; r++)
            {
                float max = 0;
                foreach (float v in values.Slice(r * cols, cols)) max = MathF.Max(max, MathF.Abs(v));
                m._scales![r] = scales[r] = max / 127;
            }
        // Row by row, each row's values go to one column of its panel (every 16th element).
        for (int r = 0; r < rows; r++)
        {
            var row = values.Slice(r * cols, cols);
            long at = m._offset + m.Index(r, 0);
            switch (precision)
            {
                case WeightPrecision.Float32:
                    for (int c = 0; c < cols; c++, at += PanelWidth) m._float32![at] = row[c];
                    break;
                case WeightPrecision.BFloat16:
                    for (int c = 0; c < cols; c++, at += PanelWidth) m._bfloat16![at] = Checkpoints.BFloat16.FromFloat(row[c]);
                    break;
                default:
                    float scale = scales[r];
                    for (int c = 0; c < cols; c++, at += PanelWidth)
                        m._int8![at] = scale == 0 ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(row[c] / scale), -127, 127);
                    break;
            }
        }
        return m;
    }

    /// <summary>A bfloat16 matrix from row-major bfloat16 bits, kept as they are (lossless).</summary>
    public static WeightMatrix FromBFloat16(int rows, int cols, ReadOnlySpan<ushort> bits)
    {
        Check(rows, cols, bits.Length);
        var m = new WeightMatrix(rows, cols, WeightPrecision.BFloat16);
        for (int r = 0; r < rows; r++)
        {
            long at = m._offset + m.Index(r, 0);
            foreach (ushort b in bits.Slice(r * cols, cols))
            {
                m._bfloat16![at] = b;
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
    internal float* Float32Pointer => (float*)Unsafe.AsPointer(ref _float32![_offset]);

    /// <summary>Panel 0 of a bfloat16 matrix.</summary>
    internal ushort* BFloat16Pointer => (ushort*)Unsafe.AsPointer(ref _bfloat16![_offset]);

    /// <summary>Element (r, c) as float32.</summary>
    public float this[int r, int c] => Precision switch
    {
        WeightPrecision.Float32 => _float32![_offset + Index(r, c)],
        WeightPrecision.BFloat16 => Checkpoints.BFloat16.ToFloat(_bfloat16![_offset + Index(r, c)]),
        _ => _int8![_offset + Index(r, c)] * _scales![r],
    };

    /// <summary>Panel 0 of an int8 matrix.</summary>
    internal sbyte* Int8Pointer => (sbyte*)Unsafe.AsPointer(ref _int8![_offset]);

    /// <summary>The int8 scales, one per output row (16 per panel).</summary>
    internal float* ScalesPointer => (float*)Unsafe.AsPointer(ref _scales![0]);

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
