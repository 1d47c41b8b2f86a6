using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Runtime.Research;

/// <summary>
/// The deductive outputs of one forward pass, each [layers, heads, dk, dk] flat: the metric tensor A, A_LM, the
/// element-wise power A_P = A_LM^pw and G_LM. A, A_LM and A_P are null for custom-G models (no metric learner).
/// </summary>
public sealed record DeductiveOutputs(float[]? A, float[]? ALm, float[]? AP, float[] G)
{
    /// <summary>The outputs' names as the papers write them, in the order <see cref="Get"/> indexes them.</summary>
    public static readonly string[] Names = ["A", "A_LM", "A_P", "G_LM"];

    public float[]? Get(int output) => output switch { 0 => A, 1 => ALm, 2 => AP, 3 => G, _ => throw new ArgumentOutOfRangeException(nameof(output)) };

    /// <summary>What the model's last prefill deduced; A_P from its A_LM and the checkpoint's exponents.</summary>
    public static DeductiveOutputs Capture(IPldrModel model, PowerLawExponents? exponents)
    {
        var cache = model.CaptureGCache();
        if (!model.Info.Config.LearnedG || exponents is null) return new(null, null, null, cache.G);
        var ap = new float[cache.ALm.Length];
        for (int i = 0; i < ap.Length; i++) ap[i] = (float)Math.Pow(cache.ALm[i], exponents.Values[i]);
        return new(cache.A, cache.ALm, ap, cache.G);
    }
}

/// <summary>The power-law exponents pw of every layer (<c>plgatt_layer.pwlst</c>, [layers, heads, dk, dk] flat).</summary>
public sealed class PowerLawExponents(float[] values)
{
    public float[] Values { get; } = values;

    /// <summary>Reads pwlst of every layer from a checkpoint folder's model.safetensors; null for custom-G models.</summary>
    public static PowerLawExponents? Load(string modelDirectory, PldrConfig config)
    {
        if (!config.LearnedG) return null;
        using var file = SafeTensorsFile.Open(Path.Combine(modelDirectory, "model.safetensors"));
        int size = config.NumAttentionHeads * config.HeadDim * config.HeadDim;
        var values = new float[config.NumHiddenLayers * size];
        for (int l = 0; l < config.NumHiddenLayers; l++)
            file.ReadFloat32($"decoder.dec_layers.{l}.mha1.plgatt_layer.pwlst", values.AsSpan(l * size, size));
        return new PowerLawExponents(values);
    }
}
