using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace PldrGen.Tests.Docs;

/// <summary>
/// Every code block of README.md that shows a command or C# is exercised by a test: each command (sh, bash and
/// console blocks, and the "$ " lines of text blocks) is looked up in <see cref="CommandTests"/>, which names the test
/// (or CI step) that runs it; each C# block must appear line for line in a source file the tests compile. A block
/// added without an entry fails here. The commands this class runs itself go through the built, shipped pldr.
/// </summary>
public sealed partial class ReadmeTests
{
    const string ThisFile = "tests/PldrGen.Tests/Docs/ReadmeTests.cs";

    /// <summary>What runs each README command: a file and a string in it (a test's name, or the CI line that runs it).</summary>
    static readonly Dictionary<string, (string File, string Marker)> CommandTests = new()
    {
        ["dotnet run --project src/PldrGen.Cli -c Release -- generate --prompt \"The import statement\""] = (ThisFile, nameof(The_first_command_prints_the_text_shown_below_it)),
        ["bash .ci/run"] = (".ci/run", "dotnet test PldrGen.sln -c Release"), // CI itself: it runs every test named here
        ["pldr pull fromthesky/PLDR-LLM-v51-110M-1"] = ("tests/PldrGen.Tests/Hub/PullCommandTests.cs", "Pull_then_generate_and_spec_by_the_hub_name"),
        ["pldr spec --from-config fromthesky/PLDR-LLM-v51-110M-1 > pldr-v51-110m-1.pldr.yaml"] = ("tests/PldrGen.Tests/Hub/PullCommandTests.cs", "Pull_then_generate_and_spec_by_the_hub_name"),
        ["pldr convert --from-pth run/model.pth --hparams hpdict.json --tokenizer tokenizer.model --out my-model"] = (ThisFile, nameof(The_convert_commands_run_as_written)),
        ["pldr convert --from-pth v510G.pth --g-pickle predefined_G_LM.pkl --hparams hpdict.json --out my-v510G"] = (ThisFile, nameof(The_convert_commands_run_as_written)),
        ["pldr convert --g-pickle predefined_G_LM_cache_list_PLDRv51_110M_1_5layer_14head_64x64_paper.pkl --out g.safetensors"] = (ThisFile, nameof(The_convert_commands_run_as_written)),
        ["pldr perplexity --file held-out.txt"] = (ThisFile, nameof(The_research_transcript_is_what_pldr_prints)),
        ["echo '{\"context\": \"Integer literals\", \"continuation\": \" are\"}' | pldr score --json"] = (ThisFile, nameof(The_research_transcript_is_what_pldr_prints)),
        ["pldr order-parameter --prompts docs/research/prompts.txt"] = (ThisFile, nameof(The_research_transcript_is_what_pldr_prints)),
        ["pldr invariance --prompts docs/research/prompts.txt | tail -1"] = (ThisFile, nameof(The_research_transcript_is_what_pldr_prints)),
        // The synopsis and the curl example: the server tests start pldr serve and post completions.
        ["pldr serve --model DIR [--host 127.0.0.1] [--port 8080] [--slots N] [--queue N] [--api-key KEY] [--g-cache NAME=FILE] [--no-warmup]"] = ("tests/PldrGen.Server.Tests/SharedServer.cs", "\"--slots\", \"4\", \"--g-cache\""),
        ["pldr serve --slots 4 &"] = ("tests/PldrGen.Server.Tests/SharedServer.cs", "\"--slots\", \"4\""),
        ["curl -s http://127.0.0.1:8080/v1/completions -H 'Content-Type: application/json' -d '{\"prompt\": \"The import statement\", \"max_tokens\": 12, \"temperature\": 0}'"] =
            ("tests/PldrGen.Server.Tests/ExactnessTests.cs", "One_client_gets_the_reference_tokens_for_every_prompt"),
        ["dotnet run -c Release --project tests/PldrGen.Fuzz -- --inputs 100000 --seed 2"] = (".ci/run", "dotnet run -c Release --project tests/PldrGen.Fuzz -- --inputs 2000"),
    };

    /// <summary>Where each C# block is compiled, by the block's first line.</summary>
    static readonly Dictionary<string, string> CSharpFiles = new()
    {
        // An excerpt of generated code ("..." marks what is left out): the golden file of the learned-G fixture.
        ["// Q, K, V = x·Wᵀ + b (one pass over the workers); K and V go straight into this layer's cache rows"] = "tests/PldrGen.Generator.Tests/Baselines/PldrGen.Models.TinyV510.g.cs",
        ["var model = MyApp.Models.MyModel.Load(\"path/to/checkpoint\");     // checks config.json and every tensor first"] = "tests/PldrGen.Tests/Docs/ReadmeExamples.cs",
        ["return PldrGen.CommandLine.PldrCli.Run(args);"] = "tests/Consumer/Program.cs",
        ["using Microsoft.Extensions.AI;"] = "tests/PldrGen.Tests/Docs/EngineAppExample.cs", // also run, by EngineAppExampleTests
        ["var client = new OpenAIClient(new ApiKeyCredential(\"unused\"), new OpenAIClientOptions { Endpoint = new Uri(\"http://127.0.0.1:8080/v1\") });"] = "tests/PldrGen.Server.Tests/ReadmeExamples.cs",
        ["await PldrGen.Server.PldrServer.RunAsync(new PldrGen.Server.PldrServerOptions { Model = MyApp.Models.MyModel.ModelInfo, ModelDirectory = \"path/to/checkpoint\", Slots = 4 });"] = "tests/PldrGen.Tests/Docs/ReadmeExamples.cs",
    };

    sealed record Block(int Line, string Language, string[] Lines);

    static string Repo(string path) => Path.Combine(PldrProgram.RepoRoot, path);

    static IReadOnlyList<Block> Blocks()
    {
        string[] lines = File.ReadAllLines(Repo("README.md"));
        var blocks = new List<Block>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal)) continue;
            int start = i;
            while (++i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal)) { }
            blocks.Add(new Block(start + 1, lines[start][3..].Trim(), lines[(start + 1)..i]));
        }
        return blocks;
    }

    /// <summary>A block's commands: continuation lines joined, comments and the output lines of a transcript dropped.</summary>
    static IEnumerable<string> Commands(Block block)
    {
        bool transcript = block.Language is "console" or "text";
        if (block.Language is not ("sh" or "bash" or "console" or "text")) yield break;
        var command = new StringBuilder();
        foreach (string raw in block.Lines)
        {
            string line = raw;
            if (transcript)
            {
                if (command.Length == 0 && !line.StartsWith("$ ", StringComparison.Ordinal)) continue;
                if (command.Length == 0) line = line[2..];
            }
            line = WithoutComment(line).Trim();
            if (line.EndsWith('\\')) { command.Append(line[..^1]).Append(' '); continue; }
            command.Append(line);
            if (Whitespace().Replace(command.ToString(), " ").Trim() is { Length: > 0 } done) yield return done;
            command.Clear();
        }
    }

    /// <summary>The line up to a '#' that starts a word outside quotes.</summary>
    static string WithoutComment(string line)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c is '\'' or '"') quote = c;
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i];
        }
        return line;
    }

    [Fact]
    public void Every_command_block_names_the_test_that_runs_it()
    {
        var commands = Blocks().SelectMany(b => Commands(b).Select(c => (b.Line, Command: c))).ToList();
        Assert.True(commands.Count >= CommandTests.Count, "the README's commands were not found");
        foreach (var (line, command) in commands)
        {
            Assert.True(CommandTests.TryGetValue(command, out var test), $"README.md:{line}: no test runs `{command}`; add one and name it in ReadmeTests.CommandTests");
            Assert.Contains(test.Marker, File.ReadAllText(Repo(test.File)));
        }
        Assert.Empty(CommandTests.Keys.Except(commands.Select(c => c.Command))); // no entry outlives its command
    }

    [Fact]
    public void Every_csharp_block_is_compiled_as_written()
    {
        var blocks = Blocks().Where(b => b.Language is "csharp" or "cs" or "c#").ToList();
        Assert.Equal(CSharpFiles.Count, blocks.Count);
        foreach (var block in blocks)
        {
            Assert.True(CSharpFiles.TryGetValue(block.Lines[0], out var file), $"README.md:{block.Line}: no compiled file holds this C# block; add it and name it in ReadmeTests.CSharpFiles");
            // Each line, trimmed, in order; "..." stands for what an excerpt leaves out.
            string[] source = [.. File.ReadAllLines(Repo(file)).Select(l => l.Trim())];
            int at = 0;
            foreach (string line in block.Lines.Select(l => l.Trim()).Where(l => l.Length > 0 && l != "..."))
            {
                at = Array.IndexOf(source, line, at);
                Assert.True(at >= 0, $"README.md:{block.Line}: `{line}` is not in {file} (in the block's order)");
            }
        }
    }

    /// <summary>The text block that follows the README line containing <paramref name="marker"/>.</summary>
    static string TextAfter(string marker)
    {
        var blocks = Blocks();
        string[] readme = File.ReadAllLines(Repo("README.md"));
        int line = Array.FindIndex(readme, l => l.Contains(marker, StringComparison.Ordinal)) + 1;
        Assert.True(line > 0, marker);
        return string.Join('\n', blocks.First(b => b.Line > line && b.Language == "text").Lines);
    }

    [Fact]
    public void The_first_command_prints_the_text_shown_below_it()
    {
        // The README's first command builds and runs src/PldrGen.Cli; this runs that build's pldr with the same arguments.
        var sampled = PldrProgram.Shipped.Run("generate", "--prompt", "The import statement");
        Assert.True(sampled.ExitCode == 0, sampled.Stderr);
        Assert.Equal(TextAfter("The first command prints"), sampled.Stdout.TrimEnd('\n'));
        var greedy = PldrProgram.Shipped.Run("generate", "--prompt", "The import statement", "--greedy", "--max-new-tokens", "40");
        Assert.True(greedy.ExitCode == 0, greedy.Stderr);
        Assert.Equal(TextAfter("and with `--greedy --max-new-tokens 40`"), greedy.Stdout.TrimEnd('\n'));
    }

    /// <summary>Runs a README command line in bash, in <paramref name="folder"/>, with pldr the shipped build.</summary>
    static PldrProgram.Result Bash(string command, string folder)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        string pldr = $"pldr() {{ '{dotnet}' '{Path.Combine(PldrProgram.Shipped.Directory, "pldr.dll")}' \"$@\"; }}\n";
        var start = new ProcessStartInfo("bash", ["-c", pldr + command])
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(command);
        }
        return new PldrProgram.Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void The_research_transcript_is_what_pldr_prints()
    {
        using var dir = new TempDirectory();
        // held-out.txt is the text the README names (usage.json's held-out pydoc topics), prompts.txt the repository's.
        File.WriteAllText(dir.File("held-out.txt"), Research.UsageFixture.Root.GetProperty("perplexity").GetProperty("text").GetString());
        Directory.CreateDirectory(Path.Combine(dir.Path, "docs", "research"));
        File.Copy(Repo("docs/research/prompts.txt"), Path.Combine(dir.Path, "docs", "research", "prompts.txt"));
        var transcript = Blocks().Single(b => b.Language == "text" && b.Lines[0].StartsWith("$ pldr perplexity", StringComparison.Ordinal));
        for (int i = 0; i < transcript.Lines.Length; i++)
        {
            string command = WithoutComment(transcript.Lines[i][2..]).Trim();
            int next = Array.FindIndex(transcript.Lines, i + 1, l => l.StartsWith("$ ", StringComparison.Ordinal));
            string expected = string.Join('\n', transcript.Lines[(i + 1)..(next < 0 ? transcript.Lines.Length : next)]);
            var run = Bash(command, dir.Path);
            Assert.True(run.ExitCode == 0, $"{command}: {run.Stderr}");
            Assert.Equal(expected, run.Stdout.TrimEnd('\n'));
            if (next < 0) break;
            i = next - 1;
        }
    }

    [Fact]
    public void The_convert_commands_run_as_written()
    {
        string Pth(string file) => Path.Combine(Fixtures.Root, "pth", file);
        // The files each command names, from the fixtures: the README's names for an authors' checkpoint and its hpdict.
        var inputs = new Dictionary<string, (string Name, string From)[]>
        {
            ["--out my-model"] = [("run/model.pth", Pth("tiny-v510.pth")), ("hpdict.json", Pth("tiny-v510.hparams.json")), ("tokenizer.model", Fixtures.PydocTokenizer)],
            ["--out my-v510G"] = [("v510G.pth", Pth("tiny-v510G-external.pth")), ("predefined_G_LM.pkl", Pth("tiny-v510G-external.G_LM.pkl")), ("hpdict.json", Pth("tiny-v510G-external.hparams.json"))],
            ["--out g.safetensors"] = [("predefined_G_LM_cache_list_PLDRv51_110M_1_5layer_14head_64x64_paper.pkl", Pth("predefined_G_LM_cache_list_PLDRv51_110M_1_5layer_14head_64x64_paper.pkl"))],
        };
        var commands = Blocks().Single(b => b.Language == "bash" && b.Lines[0].StartsWith("pldr convert", StringComparison.Ordinal));
        foreach (string command in Commands(commands))
        {
            using var dir = new TempDirectory();
            var (output, files) = inputs.Single(kv => command.EndsWith(kv.Key, StringComparison.Ordinal));
            foreach (var (name, from) in files)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(dir.File(name))!);
                File.Copy(from, dir.File(name));
            }
            var run = Bash(command, dir.Path);
            Assert.True(run.ExitCode == 0, $"{command}: {run.Stderr}");
            Assert.StartsWith("wrote " + output["--out ".Length..], run.Stdout);
        }
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
