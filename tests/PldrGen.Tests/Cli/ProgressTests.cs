using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Checkpoints.Torch;
using PldrGen.Tests.Models;
using Xunit;

namespace PldrGen.Tests.Cli;

/// <summary>
/// The progress line while a checkpoint loads or converts: the runtime reports bytes read per tensor up to the
/// total; pldr draws it on stderr with --progress on, and stays quiet when stderr is not a terminal or with off.
/// </summary>
public sealed class ProgressTests
{
    static string Demo => Fixtures.ModelDir("pldr-tiny-pydoc");
    static string Pth(string file) => Path.Combine(Fixtures.Root, "pth", file);

    sealed class Recorder : IProgress<CheckpointProgress>
    {
        public List<CheckpointProgress> Reports { get; } = [];
        public void Report(CheckpointProgress value) => Reports.Add(value);
    }

    static void AssertClimbsToTheEnd(List<CheckpointProgress> reports, long total)
    {
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.Equal(total, r.TotalBytes));
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.BytesDone < p.Second.BytesDone), "bytes done grow with every report");
        Assert.Equal(total, reports[^1].BytesDone);
    }

    [Fact]
    public void Loading_reports_every_weight_byte_once()
    {
        var recorder = new Recorder();
        CompiledModels.Info("pldr-tiny-pydoc").Load(Demo, progress: recorder);
        using var file = SafeTensorsFile.Open(Path.Combine(Demo, "model.safetensors"));
        AssertClimbsToTheEnd(recorder.Reports, file.Tensors.Values.Sum(e => e.End - e.Begin));
        Assert.Equal(file.Tensors.Count, recorder.Reports.Count);
    }

    [Fact]
    public void Converting_reports_every_tensor_read_from_the_pth()
    {
        using var dir = new TempDirectory();
        var recorder = new Recorder();
        var config = AuthorsHyperparameters.Load(Pth("tiny-v510.hparams.json"), null);
        var result = PthConverter.Convert(Pth("tiny-v510.pth"), null, config, dir.File("out"), recorder);
        using var written = SafeTensorsFile.Open(Path.Combine(dir.File("out"), "model.safetensors"));
        AssertClimbsToTheEnd(recorder.Reports, written.Tensors.Values.Sum(e => e.End - e.Begin));
        Assert.Equal(result.Tensors, recorder.Reports.Count);
    }

    [Fact]
    public void Generate_draws_the_load_with_progress_on_and_is_quiet_otherwise()
    {
        string[] generate = ["generate", "--model", Demo, "--greedy", "-n", "2", "--prompt", "The import statement"];
        var on = PldrProgram.WithTestSpecs.Run([.. generate, "--progress", "on"]);
        Assert.True(on.ExitCode == 0, on.Stderr);
        Assert.StartsWith($"\rpldr: loading {Path.Combine(Demo, "model.safetensors")}  ", on.Stderr);
        Assert.Contains("100%\n", on.Stderr);
        // Redirected stderr (as here) is not a terminal: auto draws nothing, and neither does off.
        foreach (var quiet in new[] { PldrProgram.WithTestSpecs.Run(generate), PldrProgram.WithTestSpecs.Run([.. generate, "--progress", "off"]) })
        {
            Assert.True(quiet.ExitCode == 0, quiet.Stderr);
            Assert.DoesNotContain("loading", quiet.Stderr);
            Assert.Equal(on.Stdout, quiet.Stdout);
        }
    }

    [Fact]
    public void Convert_draws_the_read_with_progress_on()
    {
        using var dir = new TempDirectory();
        var run = PldrProgram.WithTestSpecs.Run("convert", "--from-pth", Pth("tiny-v510.pth"), "--hparams", Pth("tiny-v510.hparams.json"),
            "--out", dir.File("out"), "--progress", "on");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.StartsWith($"\rpldr: reading {Pth("tiny-v510.pth")}  ", run.Stderr);
        Assert.EndsWith("100%\n", run.Stderr);
    }

    [Fact]
    public void A_bad_progress_value_is_refused_as_an_option()
    {
        var run = PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--progress", "sometimes");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--progress", run.Stderr);
        Assert.Equal("", run.Stdout);
    }
}
