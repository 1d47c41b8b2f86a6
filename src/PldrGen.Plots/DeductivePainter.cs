using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Research;
using ScottPlot;
using SkiaSharp;

namespace PldrGen.Plots;

/// <summary>
/// Pictures of A, A_LM, A_P and G_LM with ScottPlot: every panel is a ScottPlot plot rendered into its cell of one
/// SkiaSharp canvas, under a title line, and the canvas is saved as PNG.
/// </summary>
public sealed class DeductivePainter : IDeductivePainter
{
    const int CellWidth = 300, CellHeight = 260, TitleHeight = 40;

    /// <summary>Offers pictures to <c>pldr inspect</c>.</summary>
    public static void Register() => DeductivePictures.Register(new DeductivePainter());

    public void Heatmaps(DeductiveOutputs outputs, PldrConfig config, string title, string path)
    {
        // rows: layer × (A, A_LM, G_LM); columns: heads. Custom-G models have G_LM only.
        int[] shown = outputs.A is null ? [3] : [0, 1, 3];
        int heads = config.NumAttentionHeads, dk = config.HeadDim, rows = config.NumHiddenLayers * shown.Length;
        Draw(path, title, heads, rows, (row, column) =>
        {
            int layer = row / shown.Length, output = shown[row % shown.Length];
            var values = outputs.Get(output)!;
            int offset = ((layer * heads) + column) * dk * dk;
            var matrix = new double[dk, dk];
            for (int i = 0; i < dk; i++)
                for (int j = 0; j < dk; j++) matrix[i, j] = values[offset + i * dk + j];
            var plot = new Plot();
            var heatmap = plot.Add.Heatmap(matrix);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            plot.Add.ColorBar(heatmap);
            plot.Axes.Frameless(); // hides the title too: set after
            plot.Title($"layer {layer} head {column}: {DeductiveOutputs.Names[output]}", size: 13);
            return plot;
        });
    }

    public void Histograms(DeductiveOutputs outputs, PldrConfig config, string title, string path)
    {
        var present = Enumerable.Range(0, DeductiveOutputs.Names.Length).Where(o => outputs.Get(o) is not null).ToArray();
        int layerSize = config.NumAttentionHeads * config.HeadDim * config.HeadDim;
        Draw(path, title, present.Length, 1, (_, column) =>
        {
            int output = present[column];
            var values = outputs.Get(output)!;
            var plot = new Plot();
            // A_LM, A_P and G_LM span decades: their distributions read on a log10|x| axis
            bool logScale = output >= 1;
            var transformed = values.Select(v => logScale ? Math.Log10(Math.Abs((double)v) + 1e-30) : v).ToArray();
            double min = transformed.Min(), max = transformed.Max();
            if (max <= min) max = min + 1;
            for (int layer = 0; layer < config.NumHiddenLayers; layer++)
            {
                var histogram = ScottPlot.Statistics.Histogram.WithBinCount(60, min, max);
                histogram.AddRange(transformed.Skip(layer * layerSize).Take(layerSize));
                var line = plot.Add.ScatterLine(histogram.Bins, histogram.GetProbability());
                line.LegendText = $"layer {layer}";
                line.LineWidth = 2;
            }
            plot.Title($"{DeductiveOutputs.Names[output]}", size: 14);
            plot.XLabel(logScale ? $"log10 |{DeductiveOutputs.Names[output]}|" : "value");
            plot.YLabel("fraction of entries");
            plot.ShowLegend(Alignment.UpperRight);
            return plot;
        }, cellWidth: 420, cellHeight: 340);
    }

    static void Draw(string path, string title, int columns, int rows, Func<int, int, Plot> cell, int cellWidth = CellWidth, int cellHeight = CellHeight)
    {
        int width = columns * cellWidth, height = TitleHeight + rows * cellHeight;
        using var surface = SKSurface.Create(new SKImageInfo(width, height)) ?? throw new PldrException($"{path}: cannot allocate a {width}×{height} picture");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using (var font = new SKFont(SKTypeface.Default, 20))
        using (var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true })
            canvas.DrawText(title, 12, 28, font, paint);
        // ScottPlot clears the canvas it renders to: each panel is drawn on its own surface, then placed
        using var panel = SKSurface.Create(new SKImageInfo(cellWidth, cellHeight));
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                cell(r, c).Render(panel);
                using var picture = panel.Snapshot();
                canvas.DrawImage(picture, c * cellWidth, TitleHeight + r * cellHeight);
            }
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        try
        {
            using var file = File.Create(path);
            png.SaveTo(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PldrException($"{path}: cannot write ({e.Message})");
        }
    }
}
