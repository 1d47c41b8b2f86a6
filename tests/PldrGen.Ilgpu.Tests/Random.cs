using PldrGen.Runtime.Kernels;

namespace PldrGen.Ilgpu.Tests;

/// <summary>Deterministic test tensors.</summary>
public sealed class TestData(int seed)
{
    readonly Random _random = new(seed);

    /// <summary>Uniform in [low, high).</summary>
    public float[] Floats(int length, float low = -1f, float high = 1f)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = low + (high - low) * _random.NextSingle();
        return values;
    }

    public int[] Ints(int length, int below)
    {
        var values = new int[length];
        for (int i = 0; i < length; i++) values[i] = _random.Next(below);
        return values;
    }

    /// <summary>A Linear layer [outDim, inDim] scaled like an initialised one (1/√in), with or without bias.</summary>
    public LinearWeights Linear(int outDim, int inDim, bool bias = true)
    {
        float scale = 1f / MathF.Sqrt(inDim);
        return new(WeightMatrix.FromFloat32(outDim, inDim, Floats(outDim * inDim, -scale, scale)), bias ? Floats(outDim, -0.1f, 0.1f) : null);
    }

    public NormWeights Norm(int dim) => new(Floats(dim, 0.5f, 1.5f), Floats(dim, -0.2f, 0.2f));

    public GluWeights Glu(int inDim, int hidden, bool bias = true) => new(Linear(hidden, inDim, bias), Linear(hidden, inDim, bias), Linear(inDim, hidden, bias));
}
