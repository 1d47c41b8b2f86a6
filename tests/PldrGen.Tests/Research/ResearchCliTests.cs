using System.Text.Json;
using PldrGen.Tests.Cli;
using Xunit;

namespace PldrGen.Tests.Research;

/// <summary>The research commands end to end: the pldr process, --json output against usage.json, one-line refusals.</summary>
public sealed class ResearchCliTests
{
    static JsonElement Json(PldrProgram.Result run)
    {
        Assert.True(run.ExitCode == 0, run.Stderr);
        return JsonDocument.Parse(run.Stdout).RootElement;
    }

    static void AssertRelative(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected), $"expected {expected:R}, got {actual:R}");

    [Fact]
    public void Perplexity_prints_the_authors_figures_as_json()
    {
        using var dir = new TempDirectory();
        var expected = UsageFixture.Root.GetProperty("perplexity");
        File.WriteAllText(dir.File("text.txt"), expected.GetProperty("text").GetString());
        var result = Json(PldrProgram.WithTestSpecs.Run("perplexity", "--model", UsageFixture.Demo, "--file", dir.File("text.txt"), "--json"));
        Assert.Equal(expected.GetProperty("tokens").GetInt32(), result.GetProperty("tokens").GetInt32());
        Assert.Equal(expected.GetProperty("scored").GetInt32(), result.GetProperty("scored").GetInt32());
        AssertRelative(expected.GetProperty("mean_nll").GetDouble(), result.GetProperty("mean_nll").GetDouble(), 1e-5);
        AssertRelative(expected.GetProperty("ppl").GetDouble(), result.GetProperty("perplexity").GetDouble(), 1e-5);
    }

    [Fact]
    public void Score_answers_each_json_line_with_one()
    {
        using var dir = new TempDirectory();
        var requests = UsageFixture.Root.GetProperty("loglikelihood").EnumerateArray().ToArray();
        File.WriteAllLines(dir.File("requests.jsonl"), requests.Select(r => JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["context"] = r.GetProperty("context").GetString()!, ["continuation"] = r.GetProperty("continuation").GetString()!,
        })));
        var run = PldrProgram.WithTestSpecs.Run("score", "--model", UsageFixture.Demo, "--file", dir.File("requests.jsonl"), "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(requests.Length, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            var answer = JsonDocument.Parse(lines[i]).RootElement;
            AssertRelative(requests[i].GetProperty("logprob").GetDouble(), answer.GetProperty("logprob").GetDouble(), 1e-5);
            Assert.Equal(requests[i].GetProperty("is_greedy").GetBoolean(), answer.GetProperty("is_greedy").GetBoolean());
        }
    }

    [Fact]
    public void Order_parameter_and_invariance_print_json_for_the_prompts_file()
    {
        using var dir = new TempDirectory();
        var order = UsageFixture.Root.GetProperty("order");
        File.WriteAllLines(dir.File("prompts.txt"), UsageFixture.Root.GetProperty("prompts").EnumerateArray().Take(8).Select(p => p.GetProperty("text").GetString()!));
        var result = Json(PldrProgram.WithTestSpecs.Run("order-parameter", "--model", UsageFixture.Demo, "--prompts", dir.File("prompts.txt"), "--max-new-tokens", "32", "--json"));
        foreach (var name in new[] { "A", "A_LM", "G_LM" })
            AssertRelative(order.GetProperty(name).GetDouble(), result.GetProperty(name).GetDouble(), 1e-5);
        Assert.True(result.GetProperty("A_P").GetDouble() > 0);
        Assert.True(result.GetProperty("std").GetProperty("G_LM").GetDouble() > 0);

        var invariance = Json(PldrProgram.WithTestSpecs.Run("invariance", "--model", UsageFixture.Demo, "--prompts", dir.File("prompts.txt"), "--json"));
        Assert.Equal(8, invariance.GetProperty("prompts").GetInt32());
        Assert.Equal(4 * 4, invariance.GetProperty("heads").GetArrayLength());
    }

    public static TheoryData<string[], string> Refusals => new()
    {
        { ["score", "--file", "BAD"], "pldr: BAD:2: expected a JSON object with string fields \"context\" and \"continuation\"" },
        { ["perplexity", "--file", "MISSING"], "pldr: MISSING: file not found" },
        { ["perplexity", "--file", "TEXT", "--window", "300"], "pldr: --window 300: must be 2…256 (the model's context)" },
        { ["order-parameter", "--prompts", "TEXT", "--greedy", "--top-k", "5"], "pldr: give --greedy or sampling options (--temperature, --top-k, --top-p), not both" },
        { ["invariance", "--prompts", "ONE"], "pldr: invariance compares prompts: give at least 2, found 1" },
        { ["convert", "--from-pth", "TEXT", "--out", "OUT"], "pldr: give the model's shape with --config config.json or --hparams hpdict.json (one of them)" },
    };

    [Theory, MemberData(nameof(Refusals))]
    public void Bad_input_is_refused_in_one_line(string[] args, string message)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("bad.jsonl"), "{\"context\": \"The for statement\", \"continuation\": \" is\"}\n[1, 2]\n");
        File.WriteAllText(dir.File("text.txt"), "The for statement");
        File.WriteAllText(dir.File("one.txt"), "The for statement\n");
        string Path(string a) => a switch
        {
            "BAD" => dir.File("bad.jsonl"), "MISSING" => dir.File("missing.txt"), "TEXT" => dir.File("text.txt"),
            "ONE" => dir.File("one.txt"), "OUT" => dir.File("out"), _ => a,
        };
        var run = PldrProgram.WithTestSpecs.Run([.. args.Select(Path), .. args[0] == "convert" ? Array.Empty<string>() : ["--model", UsageFixture.Demo]]);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(message.Replace("BAD", dir.File("bad.jsonl")).Replace("MISSING", dir.File("missing.txt")) + "\n", run.Stderr);
    }
}
