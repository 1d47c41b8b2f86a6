using System.Runtime.CompilerServices;

namespace PldrGen.Runtime.Kernels;

/// <summary>How a weight matrix is held in memory. Math is always float32.</summary>
public enum WeightPrecision
{
    /// <summary>4 bytes per weight.</summary>
    Float32,
    /// <summary>2 bytes per weight (the upper half of a float32): half the bytes a decode step streams.</summary>
    BFloat16,
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
    public const int PanelWidth = 16;
    const int Alignment = 64;
    readonly float[]? _float32;
    readonly ushort[]? _bfloat16;
    readonly int _offset; // elements from the array start to the first 64-byte-aligned element

    public int Rows { get; }
    public int Cols { get; }
    public WeightPrecision Precision { get; }
    public int Panels => (Rows + PanelWidth - 1) / PanelWidth;
    /// <summary>Elements from one panel's start to the next.</summary>
    public long PanelSize => (long)Cols * PanelWidth;
    /// <summary>Bytes a full pass over the matrix reads (what one decode step streams).</summary>
    public long Bytes => Panels * PanelSize * (Precision == WeightPrecision.Float32 ? 4 : 2);

    WeightMatrix(int rows, int cols, WeightPrecision precision)
    {
        Rows = rows;
        Cols = cols;
        Precision = precision;
        int size = precision == WeightPrecision.Float32 ? 4 : 2;
        long length = Panels * PanelSize + Alignment / size;
        if (length > Array.MaxLength) throw new PldrException($"a [{rows}, {cols}] weight matrix is too large for one array");
        if (precision == WeightPrecision.Float32)
        {
            _float32 = GC.AllocateArray<float>((int)length, pinned: true);
            _offset = (int)((Alignment - (nint)Unsafe.AsPointer(ref _float32[0]) % Alignment) % Alignment / size);
        }
        else
        {
            _bfloat16 = GC.AllocateArray<ushort>((int)length, pinned: true);
            _offset = (int)((Alignment - (nint)Unsafe.AsPointer(ref _bfloat16[0]) % Alignment) % Alignment / size);
        }
    }

    /// <summary>Where element (r, c) lives, counted from the first panel.</summary>
    long Index(int r, int c) => r / PanelWidth * PanelSize + (long)c * PanelWidth + r % PanelWidth;

    /// <summary>A matrix from row-major float32 values (the checkpoint layout), held at the given precision.</summary>
    public static WeightMatrix FromFloat32(int rows, int cols, ReadOnlySpan<float> values, WeightPrecision precision = WeightPrecision.Float32)
    {
        Check(rows, cols, values.Length);
        var m = new WeightMatrix(rows, cols, precision);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                long i = m._offset + m.Index(r, c);
                if (precision == WeightPrecision.Float32) m._float32![i] = values[r * cols + c];
                else m._bfloat16![i] = Checkpoints.BFloat16.FromFloat(values[r * cols + c]);
            }
        return m;
    }

    /// <summary>A bfloat16 matrix from row-major bfloat16 bits, kept as they are (lossless).</summary>
    public static WeightMatrix FromBFloat16(int rows, int cols, ReadOnlySpan<ushort> bits)
    {
        Check(rows, cols, bits.Length);
        var m = new WeightMatrix(rows, cols, WeightPrecision.BFloat16);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) m._bfloat16![m._offset + m.Index(r, c)] = bits[r * cols + c];
        return m;
    }

    static void Check(int rows, int cols, int length)
    {
        if (length != (long)rows * cols) throw new ArgumentException($"{length} values do not make a [{rows}, {cols}] matrix");
    }

    /// <summary>Panel 0 of a float32 matrix; panel p starts p·<see cref="PanelSize"/> elements later.</summary>
    public float* Float32Pointer => (float*)Unsafe.AsPointer(ref _float32![_offset]);

    /// <summary>Panel 0 of a bfloat16 matrix.</summary>
    public ushort* BFloat16Pointer => (ushort*)Unsafe.AsPointer(ref _bfloat16![_offset]);

    /// <summary>Element (r, c) as float32.</summary>
    public float this[int r, int c] => Precision == WeightPrecision.Float32
        ? _float32![_offset + Index(r, c)]
        : Checkpoints.BFloat16.ToFloat(_bfloat16![_offset + Index(r, c)]);

    /// <summary>The matrix unpacked to row-major float32 [Rows, Cols] (for backends with their own layout).</summary>
    public float[] ToRowMajor()
    {
        var values = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Cols; c++) values[(long)r * Cols + c] = this[r, c];
        return values;
    }

    /// <summary>destination = row r · scale (the embedding lookup).</summary>
    public void CopyRow(int r, float scale, Span<float> destination)
    {
        for (int c = 0; c < Cols; c++) destination[c] = this[r, c] * scale;
    }
}
