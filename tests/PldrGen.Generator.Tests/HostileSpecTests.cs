using System.Diagnostics;
using System.Globalization;
using Microsoft.CodeAnalysis;
using static PldrGen.Generator.Tests.GeneratorHarness;
using static PldrGen.Generator.Tests.SmallSpecs;

namespace PldrGen.Generator.Tests;

/// <summary>
/// The hostile specs of issue 11 (found by fuzzing): each gets a located diagnostic, in bounded time, where it used to
/// become PLDR0099 at (0,0), take seconds, or validate and then emit code that does not compile.
/// </summary>
public class HostileSpecTests
{
    const string Spec = CustomG + "\n";

    // Class 3: YamlDotNet throws something other than YamlException on these.
    [Theory]
    [InlineData("document end first", "...\n" + Spec)]
    [InlineData("a key of NUL bytes", "\0\0\0: 1\n" + Spec)]
    public void Malformed_yaml_is_a_located_PLDR0001(string name, string yaml)
    {
        var d = Assert.Single(Diagnose(yaml), d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(d.Id is "PLDR0001" or "PLDR0014", $"{name}: {d}");
        Assert.Equal(LocationKind.ExternalFile, d.Location.Kind);
    }

    // Class 4: an epsilon that a float cannot hold became `Infinityf` or `0f`.
    [Theory]
    [InlineData("1e39")]
    [InlineData("1e-46")]
    public void An_epsilon_outside_float_is_out_of_range(string eps)
    {
        string yaml = Spec + "layer_norm_eps: " + eps + "\n";
        var d = Assert.Single(Diagnose(yaml));
        Assert.Equal("PLDR0016", d.Id);
        Assert.Equal($"'layer_norm_eps' is {eps} but must be a positive float32 (1.4E-45 to 3.4028235E+38)", d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(eps, yaml.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
    }

    [Theory]
    [InlineData("3e38")]
    [InlineData("1.5e-45")]
    public void An_epsilon_at_the_edge_of_float_compiles(string eps)
    {
        var result = Run([new InMemoryAdditionalText(SpecPath("test.pldr.yaml"), Spec + "layer_norm_eps: " + eps + "\n")], out var output);
        Assert.Empty(result.Diagnostics);
        AssertCompiles(output);
    }

    // Class 5: work grew with the square of the nesting depth (50,000 brackets took 6.5 s).
    [Theory]
    [InlineData("{")]
    [InlineData("[")]
    public void Deep_nesting_is_refused_at_the_depth_limit_in_bounded_time(string bracket)
    {
        string yaml = "class_name: " + string.Concat(Enumerable.Repeat(bracket, 50_000));
        Diagnose(yaml); // the first run also compiles the parser (seconds on a loaded machine); the second is its work
        var clock = Stopwatch.StartNew();
        var d = Assert.Single(Diagnose(yaml));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal("PLDR0001", d.Id);
        Assert.Contains("nested deeper than 64 levels", d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(12 + 64, d.Location.SourceSpan.Start); // at the bracket that opens level 65
    }

    [Fact]
    public void A_spec_over_the_size_limit_is_refused_at_the_file_start()
    {
        string yaml = Spec + "# " + new string('x', 1 << 20) + "\n";
        var d = Assert.Single(Diagnose(yaml));
        Assert.Equal("PLDR0020", d.Id);
        Assert.Equal($"The spec has {yaml.Length} characters, more than the 1048576 a spec may have. A spec is a few dozen 'key: value' lines.", d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(0, d.Location.SourceSpan.Start);
    }
}
