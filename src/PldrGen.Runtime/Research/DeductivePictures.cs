using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Runtime.Research;

/// <summary>Draws the deductive outputs of one prompt into a PNG (implemented by PldrGen.Plots).</summary>
public interface IDeductivePainter
{
    /// <summary>A heatmap with its colour scale for A, A_LM and G_LM of every layer and head.</summary>
    void Heatmaps(DeductiveOutputs outputs, PldrConfig config, string title, string path);

    /// <summary>The distribution of each output's values, one curve per layer.</summary>
    void Histograms(DeductiveOutputs outputs, PldrConfig config, string title, string path);
}

/// <summary>
/// The painter the running program carries: the plotting assembly registers itself at start-up in the JIT build
/// of pldr; the NativeAOT build leaves ScottPlot and SkiaSharp's native library out (as it does ILGPU), and says so.
/// </summary>
public static class DeductivePictures
{
    public static IDeductivePainter? Painter { get; private set; }

    public static void Register(IDeductivePainter painter) => Painter = painter;
}
