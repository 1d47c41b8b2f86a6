using PldrGen.Tests.Cli;
using SkiaSharp;
using Xunit;

namespace PldrGen.Tests.Research;

/// <summary>pldr inspect writes a PNG a person can read: the expected size, and real pictures in it, not a blank page.</summary>
public sealed class InspectTests
{
    [Theory]
    [InlineData(false, 4 * 300, 40 + 4 * 3 * 260)]   // heatmaps: 4 heads × (4 layers × A, A_LM, G_LM)
    [InlineData(true, 4 * 420, 40 + 340)]            // histograms: A, A_LM, A_P, G_LM
    public void Inspect_writes_a_png_with_a_panel_per_layer_and_head(bool histogram, int width, int height)
    {
        using var dir = new TempDirectory();
        string png = dir.File("outputs.png");
        string[] args = ["inspect", "--model", UsageFixture.Demo, "--prompt", "The for statement is used to iterate", "--out", png];
        var run = PldrProgram.WithTestSpecs.Run(histogram ? [.. args, "--histogram"] : args);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal($"wrote {png}\n", run.Stdout);

        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        // a readable picture: many colours (colour scales, heatmaps), and ink in every panel's quarter of the canvas
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 3)
            for (int x = 0; x < bitmap.Width; x += 3) colours.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colours.Count > (histogram ? 20 : 200), $"only {colours.Count} colours");
        foreach (var (x0, y0) in new[] { (0, 40), (width / 2, 40), (0, height / 2), (width / 2, height / 2) })
        {
            int ink = 0;
            for (int y = y0; y < Math.Min(y0 + height / 2, height); y += 2)
                for (int x = x0; x < x0 + width / 2; x += 2) if (bitmap.GetPixel(x, y) != SKColors.White) ink++;
            Assert.True(ink > 100, $"the quarter at ({x0}, {y0}) is blank");
        }
    }

    [Fact]
    public void Inspect_of_a_custom_g_model_draws_g_only()
    {
        using var dir = new TempDirectory();
        string png = dir.File("g.png");
        var run = PldrProgram.WithTestSpecs.Run("inspect", "--model", Fixtures.ModelDir("tiny-v510G-external"), "--tokens", "5,6,7", "--out", png, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("\"prompt_tokens\":3", run.Stdout);
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((4 * 300, 40 + 2 * 260), (bitmap.Width, bitmap.Height));
    }
}
