namespace PldrGen.Runtime.Kernels;

/// <summary>A Linear layer: y = x·Wᵀ + b, W [out, in]; Bias is null when the spec turns biases off.</summary>
public sealed record LinearWeights(WeightMatrix Weight, float[]? Bias)
{
    public int In => Weight.Cols;
    public int Out => Weight.Rows;
}

/// <summary>A LayerNorm's weight and bias.</summary>
public sealed record NormWeights(float[] Weight, float[] Bias);

/// <summary>GLU(x) = W3·(silu(W1·x) ⊙ W2·x): the feed-forward block and each metric-learner layer.</summary>
public sealed record GluWeights(LinearWeights W1, LinearWeights W2, LinearWeights W3)
{
    public int Hidden => W1.Out;
}

/// <summary>One residual block of the metric learner: N GLUs, then LN(A + A_in).</summary>
public sealed record ResBlockWeights(GluWeights[] Glus, NormWeights Norm);

/// <summary>The power-law graph attention parameters, each [H, dk, dk]: A_LM = iSwiGLU(W·A + b) + 1e-9, G = a·A_LM^pw + ba.</summary>
public sealed record PlgaWeights(float[] W, float[] B, float[] Pw, float[] Alpha, float[] Beta);
