namespace PldrGen.Runtime.Kernels;

/// <summary>custom_G_type checkpoints (v510G) keep G in <c>decoder.past_G_values</c> [L, 3, 1, H, dk, dk]; entry 2 is G_LM.</summary>
static class CustomG
{
    public static float[] FromPastGValues(float[] pastGValues, int layers, int heads, int headDim)
    {
        int size = heads * headDim * headDim;
        var g = new float[layers * size];
        for (int l = 0; l < layers; l++) pastGValues.AsSpan((l * 3 + 2) * size, size).CopyTo(g.AsSpan(l * size, size));
        return g;
    }
}
