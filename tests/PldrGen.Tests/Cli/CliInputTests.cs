using System.Diagnostics;
using Xunit;

namespace PldrGen.Tests.Cli;

/// <summary>How pldr takes its input and options, and what it prints around the generated text.</summary>
public sealed class CliInputTests
{
    static string Demo => Fixtures.ModelDir("pldr-tiny-pydoc");
    static readonly string[] Greedy8 = ["generate", "--model", Demo, "--greedy", "--max-new-tokens", "8"];
    const string Continued = "The import statement is used to the same as the \"";

    static PldrProgram.Result Generate(string stdin, params string[] args) => PldrProgram.WithTestSpecs.Run([.. Greedy8, .. args], stdin);

    [Fact]
    public void A_prompt_that_starts_with_an_at_sign_is_text_not_a_response_file()
    {
        var run = Generate("", "--prompt", "@staticmethod decorators");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.StartsWith("@staticmethod decorators", run.Stdout);
    }

    [Fact]
    public void The_prompt_comes_from_standard_input_a_file_or_the_option_alike()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("prompt.txt"), "The import statement");
        var runs = new[]
        {
            Generate("", "--prompt", "The import statement"),
            Generate("The import statement"),
            Generate("The import statement", "--prompt", "-"),
            Generate("The import statement", "--prompt-file", "-"),
            Generate("", "--prompt-file", dir.File("prompt.txt")),
        };
        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.Stderr));
        Assert.All(runs, run => Assert.Equal(Continued + "\n", run.Stdout));
    }

    [Fact]
    public void Short_flags_mean_their_long_options()
    {
        var longOptions = PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--prompt", "The import statement", "--max-new-tokens", "12", "--seed", "5", "--threads", "1");
        var shortFlags = PldrProgram.WithTestSpecs.Run("generate", "-m", Demo, "-p", "The import statement", "-n", "12", "-s", "5", "-t", "1");
        Assert.True(longOptions.ExitCode == 0, longOptions.Stderr);
        Assert.Equal(longOptions.Stdout, shortFlags.Stdout);
        var otherSeed = PldrProgram.WithTestSpecs.Run("generate", "-m", Demo, "-p", "The import statement", "-n", "12", "-s", "6");
        Assert.NotEqual(shortFlags.Stdout, otherSeed.Stdout);
    }

    [Fact]
    public void Timings_follow_in_words_on_stderr_with_the_thread_count()
    {
        var run = Generate("", "--prompt", "The import statement", "--ignore-eos", "--threads", "1");
        Assert.True(run.ExitCode == 0, run.Stderr);
        string line = Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Matches(@"^pldr: load [0-9.]+ m?s \+ warm-up [0-9.]+ m?s \| prefill 3 tokens in [0-9.]+ m?s \([0-9,]+ tok/s\) \| decode 7 tokens in [0-9.]+ m?s \([0-9,]+ tok/s\) \| PldrTinyPydoc on cpu, 1 thread \| peak memory [0-9]+ MiB$", line);
        Assert.Equal(Generate("", "--prompt", "The import statement", "--ignore-eos").Stdout, run.Stdout);
    }

    /// <summary>Bad input is found before the first byte of output: stdout stays empty.</summary>
    public static TheoryData<string[], string> CheckedFirst => new()
    {
        { ["--prompt", "The import statement", "--max-new-tokens", "-5"], "--max-new-tokens must be 0 or more, got -5" },
        { ["--tokens", "1,2,99999"], "token id 99999 is outside the vocabulary (0..4095)" },
        { ["--prompt", "x", "--threads", "0"], "--threads must be at least 1, got 0" },
        { ["--prompt-file", "/nonexistent/prompt.txt"], "--prompt-file: /nonexistent/prompt.txt: file not found" },
        { ["--prompt", "x", "--dump", "/nonexistent/folder/run.safetensors"], "--dump: folder /nonexistent/folder not found" },
        { ["--prompt", "x", "--tokens", "1"], "give one of --prompt, --prompt-file and --tokens" },
        { ["--prompt", "x", "--g-cache", "/nonexistent.gcache"], "/nonexistent.gcache" },
    };

    [Theory, MemberData(nameof(CheckedFirst))]
    public void Nothing_is_printed_before_the_input_is_checked(string[] args, string message)
    {
        var run = PldrProgram.WithTestSpecs.Run(["generate", "--model", Demo, .. args], "");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Contains(message, Assert.Single(run.Stderr.TrimEnd('\n').Split('\n')));
    }

    [Theory]
    [InlineData(new[] { "generate", "-n", "many" }, "pldr: --max-new-tokens: 'many' is not a whole number (see 'pldr generate --help')")]
    [InlineData(new[] { "generate", "--top-p", "high" }, "pldr: --top-p: 'high' is not a number (see 'pldr generate --help')")]
    [InlineData(new[] { "frobnicate" }, "pldr: 'frobnicate' is not a pldr command; the commands are generate, chat, batch, gcache, tokenize, detokenize, pull, models, spec, convert, perplexity, score, order-parameter, invariance, inspect, serve (see 'pldr --help')")]
    [InlineData(new string[0], "pldr: give a command: generate, chat, batch, gcache, tokenize, detokenize, pull, models, spec, convert, perplexity, score, order-parameter, invariance, inspect, serve (see 'pldr --help')")]
    public void Option_errors_are_in_plain_words(string[] args, string message)
    {
        var run = PldrProgram.WithTestSpecs.Run(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal(message, run.Stderr.TrimEnd('\n'));
    }

    /// <summary>A long generation: the whole sequence re-run every step, to the end of the 256-position context.</summary>
    static readonly string[] LongRun = ["generate", "--model", Demo, "--max-new-tokens", "256", "--ignore-eos", "--no-kv-cache", "--no-g-cache"];

    [Fact]
    public async Task A_reader_that_goes_away_stops_generation_with_exit_code_0()
    {
        using var process = Process.Start(PldrProgram.WithTestSpecs.StartInfo(LongRun))!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var buffer = new char[16];
        Assert.True(process.StandardOutput.Read(buffer) > 0);
        process.StandardOutput.Close(); // as `pldr generate | head -c 16` does
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "pldr kept generating after its reader went away");
        Assert.Equal(0, process.ExitCode);
        string said = await stderr;
        Assert.DoesNotContain("context limit", said); // it stopped early, and said nothing about it
        Assert.DoesNotContain("pldr: ", said);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("models")]
    public async Task Help_or_a_table_whose_reader_has_gone_exits_0_quietly(string command)
    {
        using var process = Process.Start(PldrProgram.WithTestSpecs.StartInfo([command]))!;
        process.StandardOutput.Close(); // gone before pldr writes its first line, as `pldr --help | head -c 0` is
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(0, process.ExitCode);
        Assert.DoesNotContain("Broken pipe", await stderr);
    }

    [Fact]
    public void Output_appended_to_a_file_follows_what_is_there()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("out.txt"), "before\n");
        string pldr = $"'{Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet"}' '{Path.Combine(PldrProgram.WithTestSpecs.Directory, "pldr.dll")}'";
        using var bash = Process.Start(new ProcessStartInfo("bash", ["-c", $"{{ {pldr} tokenize --model '{Demo}' one; {pldr} tokenize --model '{Demo}' two; }} >> out.txt"])
            { WorkingDirectory = dir.Path, UseShellExecute = false })!;
        Assert.True(bash.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(0, bash.ExitCode);
        string[] lines = File.ReadAllLines(dir.File("out.txt"));
        Assert.Equal(3, lines.Length);
        Assert.Equal("before", lines[0]);
        Assert.NotEqual(lines[1], lines[2]); // each run's ids, neither written over the other
    }

    [Fact]
    public async Task Ctrl_C_keeps_the_text_then_prints_a_newline_and_the_timings()
    {
        var start = PldrProgram.WithTestSpecs.StartInfo(LongRun);
        // Under a non-interactive shell's `&`, SIGINT is ignored and children inherit that (the runtime then never
        // hears Ctrl-C): start pldr with SIGINT as a terminal leaves it.
        start.ArgumentList.Insert(0, start.FileName);
        start.ArgumentList.Insert(0, "--default-signal=INT");
        start.FileName = "env";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var buffer = new char[8];
        int first = process.StandardOutput.Read(buffer);
        Assert.True(first > 0);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString()])) kill.WaitForExit();
        string rest = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(130, process.ExitCode);
        Assert.EndsWith("\n", rest);
        var lines = (await stderr).TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^pldr: stopped by Ctrl-C after \d+ tokens$", lines[0]);
        Assert.StartsWith("pldr: load ", lines[1]);
        int tokens = int.Parse(lines[0].Split(' ')[^2]);
        Assert.InRange(tokens, 1, 254);
    }
}
