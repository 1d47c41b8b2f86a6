using System.Text.Json;
using Xunit;

namespace PldrGen.Tests.Cli;

/// <summary>The pldr program's tokenizer, sampling contract, and one-line errors.</summary>
public sealed class CliTests
{
    static string Demo => Fixtures.ModelDir("pldr-tiny-pydoc");

    public static TheoryData<int> TokenizerCases
    {
        get
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.TokenizerCases));
            var data = new TheoryData<int>();
            for (int i = 0; i < doc.RootElement.GetProperty("cases").GetArrayLength(); i++) data.Add(i);
            return data;
        }
    }

    [Theory, MemberData(nameof(TokenizerCases))]
    public void Tokenize_and_detokenize_match_sentencepiece(int index)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.TokenizerCases));
        var c = doc.RootElement.GetProperty("cases")[index];
        string ids = "[" + string.Join(",", c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32())) + "]";

        var tokenized = PldrProgram.WithTestSpecs.Run("tokenize", "--tokenizer", Fixtures.PaperTokenizer, c.GetProperty("text").GetString()!);
        Assert.Equal(0, tokenized.ExitCode);
        Assert.Equal(ids, tokenized.Stdout.Trim());

        var decoded = PldrProgram.WithTestSpecs.Run("detokenize", "--tokenizer", Fixtures.PaperTokenizer, ids);
        Assert.Equal(0, decoded.ExitCode);
        Assert.Equal(c.GetProperty("decoded").GetString() + "\n", decoded.Stdout);
    }

    [Fact]
    public void The_same_seed_gives_the_same_text_and_another_seed_another()
    {
        string[] Args(string seed) => ["generate", "--model", Demo, "--prompt", "The import statement", "--seed", seed, "--top-p", "0.95", "--max-new-tokens", "30"];
        var first = PldrProgram.WithTestSpecs.Run(Args("7"));
        var again = PldrProgram.WithTestSpecs.Run(Args("7"));
        var other = PldrProgram.WithTestSpecs.Run(Args("8"));
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.Stdout, again.Stdout);
        Assert.NotEqual(first.Stdout, other.Stdout);
    }

    [Fact]
    public void Top_k_1_equals_greedy()
    {
        var greedy = PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--prompt", "The import statement", "--greedy", "--max-new-tokens", "30");
        var topK1 = PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--prompt", "The import statement", "--top-k", "1", "--top-p", "1", "--seed", "3", "--max-new-tokens", "30");
        Assert.Equal(0, greedy.ExitCode);
        Assert.Equal(greedy.Stdout, topK1.Stdout);
        Assert.StartsWith("The import statement is used to the same as the \"None\" statement.", greedy.Stdout);
    }

    [Fact]
    public void Stats_are_the_last_line_on_stderr_as_json()
    {
        var run = PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--prompt", "The import statement", "--greedy", "--max-new-tokens", "8", "--ignore-eos", "--stats");
        Assert.Equal(0, run.ExitCode);
        using var stats = JsonDocument.Parse(run.Stderr.TrimEnd().Split('\n')[^1]);
        var root = stats.RootElement;
        Assert.Equal("PldrTinyPydoc", root.GetProperty("model").GetString());
        Assert.Equal("cpu", root.GetProperty("device").GetString());
        Assert.Equal(3, root.GetProperty("prefill_tokens").GetInt32());
        Assert.Equal(7, root.GetProperty("decode_tokens").GetInt32());
        Assert.True(root.GetProperty("prefill_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("decode_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("warmup_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("peak_memory_mib").GetDouble() > 1);
    }

    [Fact]
    public void The_warm_up_changes_only_when_the_time_is_spent()
    {
        string[] args = ["generate", "--model", Demo, "--prompt", "The import statement", "--max-new-tokens", "12", "--stats"];
        var warm = PldrProgram.WithTestSpecs.Run(args);
        var cold = PldrProgram.WithTestSpecs.Run([.. args, "--no-warmup"]);
        Assert.True(cold.ExitCode == 0, cold.Stderr);
        Assert.Equal(warm.Stdout, cold.Stdout);
        using var stats = JsonDocument.Parse(cold.Stderr.TrimEnd().Split('\n')[^1]);
        Assert.Equal(0, stats.RootElement.GetProperty("warmup_ms").GetDouble());
    }

    /// <summary>Bad options: exit code 2, before anything runs.</summary>
    public static TheoryData<string[], string> BadOptions => new()
    {
        { ["generate", "--bogus"], "Unrecognized command or argument '--bogus'" },
        { ["generate", "--max-new-tokens", "many"], "many" },
        { ["generate", "--weights", "fp8"], "fp8" },
    };

    [Theory, MemberData(nameof(BadOptions))]
    public void Bad_options_are_one_line_on_stderr_with_exit_code_2(string[] args, string expected) =>
        AssertOneLineError(PldrProgram.WithTestSpecs.Run(args), expected, exitCode: 2);

    /// <summary>Bad input: exit code 1 (70 would be an internal error: a bug).</summary>
    public static TheoryData<string[], string> Refusals => new()
    {
        { ["generate", "--temperature", "1.5"], "--temperature must be in (0, 1], got 1.5" },
        { ["generate", "--temperature", "1e-45"], "--temperature must be at least 0.0001" },
        { ["generate", "--greedy", "--top-k", "5"], "--greedy already fixes the choice (top-k 1); drop --top-k" },
        { ["generate", "--model", "/nonexistent/model"], "/nonexistent/model: model folder not found" },
        { ["generate", "--tokens", "1,x,3"], "--tokens: 'x' is not a token id" },
        { ["generate", "--tokens", "1,99999"], "token id 99999 is outside the vocabulary (0..4095)" },
        { ["generate", "--tokens", string.Join(",", Enumerable.Repeat(5, 300))], "the prompt has 300 tokens, more than the model's context of 256 positions" },
        { ["generate", "--tokens", ""], "--tokens: give at least one token id" },
        { ["generate", "--device", "tpu"], "--device tpu: not available in this build" },
        { ["tokenize", "--tokenizer", "/nonexistent.model", "x"], "/nonexistent.model" },
        { ["spec", "--from-config", "/nonexistent/config.json"], "/nonexistent/config.json: file not found" },
        { ["generate", "--tokens", "1", "--g-cache", Path.Combine(Fixtures.Root, "tokenizer", "cases.json")], "cases.json: header length" },
    };

    [Theory, MemberData(nameof(Refusals))]
    public void Bad_input_is_one_line_on_stderr_with_exit_code_1(string[] args, string expected)
    {
        var run = PldrProgram.WithTestSpecs.Run(args);
        AssertOneLineError(run, expected);
    }

    [Fact]
    public void A_g_cache_of_another_shape_is_refused()
    {
        using var dir = new TempDirectory();
        string gcache = dir.File("tiny.gcache");
        Assert.Equal(0, PldrProgram.WithTestSpecs.Run("gcache", "--model", Fixtures.ModelDir("tiny-v510"), "--tokens", "5,6,7", "--out", gcache).ExitCode);
        var run = PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--g-cache", gcache, "--max-new-tokens", "2");
        AssertOneLineError(run, "G-cache of shape [2 layers, 4 heads, 16×16] does not fit this model, which needs [4 layers, 4 heads, 32×32]");
    }

    [Fact]
    public void A_malformed_checkpoint_is_refused()
    {
        using var dir = new TempDirectory().WithModel("tiny-v510");
        File.WriteAllBytes(dir.File("model.safetensors"), [1, 2, 3, 4, 5]);
        AssertOneLineError(PldrProgram.WithTestSpecs.Run("generate", "--model", dir.Path, "--tokens", "1"), "not a safetensors file (5 bytes");
    }

    [Fact]
    public void A_checkpoint_no_spec_matches_asks_for_pldr_spec()
    {
        using var dir = new TempDirectory().WithModel("tiny-v510");
        File.WriteAllText(dir.File("config.json"), File.ReadAllText(dir.File("config.json")).Replace("\"vocab_size\": 256", "\"vocab_size\": 300"));
        var run = PldrProgram.WithTestSpecs.Run("generate", "--model", dir.Path, "--tokens", "1");
        AssertOneLineError(run, "no compiled spec has this shape");
        Assert.Contains("pldr spec --from-config", run.Stderr);
    }

    [Fact]
    public void Spec_from_config_prints_a_spec_for_the_checkpoint()
    {
        var run = PldrProgram.WithTestSpecs.Run("spec", "--from-config", Path.Combine(Fixtures.ModelDir("odd-v510"), "config.json"));
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("class_name: OddV510\n", run.Stdout);
        Assert.Contains("hidden_size: 36\n", run.Stdout);
        Assert.Contains("num_reslayerA: 3\n", run.Stdout);
    }

    [Fact]
    public void A_folder_named_tokenizer_model_is_refused_not_ignored()
    {
        using var dir = new TempDirectory().WithModel("tiny-v510");
        Directory.CreateDirectory(dir.File("tokenizer.model"));
        var run = PldrProgram.WithTestSpecs.Run("generate", "--model", dir.Path, "--tokens", "1", "--max-new-tokens", "1");
        AssertOneLineError(run, $"{dir.File("tokenizer.model")}: is a folder, expected a tokenizer model file");
    }

    [Theory]
    [InlineData(2_000, "the prompt has")]                 // tokenizes to more than the demo model's 256 positions
    [InlineData(10_000_000, "--prompt: 10000000 characters, more than the 262144 a prompt may have")]
    public void A_prompt_too_long_for_the_context_is_refused_before_it_is_echoed(int length, string expected)
    {
        // In process: a command line cannot carry 10 MB. It used to echo all of it, peaking near 460 MB, then refuse.
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        string prompt = new string('a', length).Replace("aaaa", "ab c");
        long before = GC.GetAllocatedBytesForCurrentThread();
        int exit = PldrGen.CommandLine.PldrCli.Run(["generate", "--model", Demo, "--prompt", prompt], stdout, stderr);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1, exit);
        Assert.Equal("", stdout.ToString());
        Assert.StartsWith("pldr: " + expected, stderr.ToString());
        Assert.True(allocated < 200L << 20, $"allocated {allocated >> 20} MB");
    }

    static void AssertOneLineError(PldrProgram.Result run, string expected, int exitCode = 1)
    {
        Assert.True(run.ExitCode == exitCode, $"exit code {run.ExitCode}, expected {exitCode}: {run.Stderr}");
        var lines = run.Stderr.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1, "expected one line on stderr, got:\n" + run.Stderr);
        Assert.StartsWith("pldr: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", run.Stderr);
    }
}
