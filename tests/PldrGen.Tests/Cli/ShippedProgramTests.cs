using System.Text.RegularExpressions;
using Xunit;

namespace PldrGen.Tests.Cli;

/// <summary>
/// The shipped pldr carries the user-facing specs of specs/ and nothing else; the test fixtures' specs
/// (tests/specs) are compiled only into the tests and the test host. Its help and 'pldr models' say where the demo
/// model is.
/// </summary>
public sealed partial class ShippedProgramTests
{
    static string[] ClassNames(string folder) =>
        [.. Directory.GetFiles(Path.Combine(PldrProgram.RepoRoot, folder), "*.pldr.yaml")
            .Select(path => ClassName().Match(File.ReadAllText(path)).Groups[1].Value).Order(StringComparer.Ordinal)];

    static string[] ListedModels(PldrProgram program)
    {
        var run = program.Run("models");
        Assert.Equal(0, run.ExitCode);
        // The table's rows on stdout: a header line, then one row per compiled spec.
        return [.. run.Stdout.Split('\n').Skip(1).Where(line => line.Length > 0).Select(line => line.Split(' ')[0]).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void The_shipped_program_lists_exactly_the_user_facing_specs()
    {
        string[] shipped = ClassNames("specs");
        Assert.Equal(["PldrTinyPydoc", "PldrV51G_106M", "PldrV51_110M"], shipped);
        Assert.Equal(shipped, ListedModels(PldrProgram.Shipped));
    }

    [Fact]
    public void The_test_host_lists_the_fixture_specs_too()
    {
        string[] fixtures = ClassNames(Path.Combine("tests", "specs"));
        Assert.Contains("TinyV510", fixtures);
        Assert.Equal([.. ClassNames("specs").Concat(fixtures).Order(StringComparer.Ordinal)], ListedModels(PldrProgram.WithTestSpecs));
    }

    [Fact]
    public void Help_and_models_say_where_the_demo_model_is()
    {
        var program = PldrProgram.Shipped;
        var help = program.Run("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains($"the demo model, read from {program.DemoModel}", Regex.Replace(help.Stdout, @"\s+", " ")); // however help wraps it
        Assert.Equal($"demo model (used without --model): {program.DemoModel}\n", program.Run("models").Stderr);
        Assert.True(File.Exists(Path.Combine(program.DemoModel, "model.safetensors")));
    }

    [GeneratedRegex(@"^class_name:\s*(\w+)", RegexOptions.Multiline)]
    private static partial Regex ClassName();
}
