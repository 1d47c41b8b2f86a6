namespace PldrGen.Runtime.Kernels;

/// <summary>cos/sin of p·θ^(−2i/dk) for every position p and pair i, computed once (in float64, then rounded).</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class RopeTable
{
    readonly float[] _cos, _sin;
    readonly int _half;

    public RopeTable(int positions, int headDim, double theta)
    {
        _half = headDim / 2;
        _cos = new float[positions * _half];
        _sin = new float[positions * _half];
        for (int p = 0; p < positions; p++)
            for (int i = 0; i < _half; i++)
            {
                // torchtune computes the frequencies in float32: do the same so angles round identically.
                float frequency = 1f / MathF.Pow((float)theta, 2f * i / headDim);
                float angle = p * frequency;
                _cos[p * _half + i] = MathF.Cos(angle);
                _sin[p * _half + i] = MathF.Sin(angle);
            }
    }

    public ReadOnlySpan<float> Cos(int position) => _cos.AsSpan(position * _half, _half);
    public ReadOnlySpan<float> Sin(int position) => _sin.AsSpan(position * _half, _half);
}
