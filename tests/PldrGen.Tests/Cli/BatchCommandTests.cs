using System.Text.Json;
using Xunit;

namespace PldrGen.Tests.Cli;

/// <summary><c>pldr batch</c>: one output line per request in input order, the engine's tokens, the stats line last.</summary>
public sealed class BatchCommandTests
{
    static string Demo => Fixtures.ModelDir("pldr-tiny-pydoc");

    [Fact]
    public void Every_request_gets_one_line_in_input_order_and_the_stats_come_last()
    {
        using var dir = new TempDirectory();
        string prompts = dir.File("prompts.jsonl");
        File.WriteAllLines(prompts, [
            """{"prompt": "The import statement", "max_tokens": 30, "temperature": 0, "ignore_eos": true}""",
            """{"tokens": [5, 6, 7], "max_tokens": 5, "seed": 3}""",
            "",
            """{"prompt": "The import statement", "max_tokens": 40, "top_k": 1, "stop": ["\"None\""]}""",
        ]);
        var run = PldrProgram.WithTestSpecs.Run("batch", "--model", Demo, "--prompts", prompts, "--slots", "2");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = run.Stdout.TrimEnd().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([0, 1, 2], lines.Select(l => l.GetProperty("index").GetInt32()));
        var greedy = PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--prompt", "The import statement", "--greedy", "--ignore-eos", "--max-new-tokens", "30");
        Assert.Equal(greedy.Stdout.TrimEnd('\n'), "The import statement" + lines[0].GetProperty("text").GetString());
        Assert.Equal("length", lines[0].GetProperty("finish_reason").GetString());
        Assert.Equal(5, lines[1].GetProperty("tokens").GetArrayLength());
        Assert.Equal(3, lines[1].GetProperty("seed").GetInt32());
        Assert.Equal(" is used to the same as the ", lines[2].GetProperty("text").GetString());
        Assert.Equal("stop", lines[2].GetProperty("finish_reason").GetString());
        using var stats = JsonDocument.Parse(run.Stderr.TrimEnd().Split('\n')[^1]);
        Assert.Equal(3, stats.RootElement.GetProperty("requests").GetInt32());
        Assert.True(stats.RootElement.GetProperty("decode_tokens_per_second").GetDouble() > 0);
    }

    [Theory]
    [InlineData("""{"prompt": "x", "bogus": 1}""", "prompts.jsonl:1: The JSON property 'bogus' could not be mapped")]
    [InlineData("""{"prompt": "x", "tokens": [5]}""", "prompts.jsonl:1: give prompt (text) or tokens (ids), not both or neither")]
    [InlineData("""{"prompt": "x", "top_p": 2}""", "prompts.jsonl:1: top-p must be in (0, 1], got 2")]
    [InlineData("not json", "prompts.jsonl:1: ")]
    public void A_bad_request_line_is_one_line_naming_the_file_and_line(string line, string expected)
    {
        using var dir = new TempDirectory();
        string prompts = dir.File("prompts.jsonl");
        File.WriteAllLines(prompts, [line]);
        var run = PldrProgram.WithTestSpecs.Run("batch", "--model", Demo, "--prompts", prompts);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(expected, run.Stderr);
        Assert.Single(run.Stderr.TrimEnd().Split('\n'));
    }
}
