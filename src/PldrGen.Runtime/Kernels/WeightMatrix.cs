namespace PldrGen.Runtime.Kernels;

/// <summary>A Linear layer's weight, stored [Rows = out, Cols = in] row-major as in the checkpoint.</summary>
public sealed class WeightMatrix(int rows, int cols, float[] values)
{
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;
    public float[] Values { get; } = values.Length == (long)rows * cols ? values
        : throw new ArgumentException($"{values.Length} values do not make a [{rows}, {cols}] matrix");

    public ReadOnlySpan<float> Row(int r) => Values.AsSpan(r * Cols, Cols);
}
