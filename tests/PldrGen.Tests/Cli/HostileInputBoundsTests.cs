using System.Diagnostics;
using System.Text;
using System.Text.Json;
using PldrGen.Tests.Text;
using Xunit;
using Xunit.Abstractions;

namespace PldrGen.Tests.Cli;

/// <summary>
/// Issue 11's bound for pldr generate: one input of each class that reaches it ends with its exit code and one line on
/// stderr naming the file or option, within 2 s and 200 MB, measured on the shipped pldr process (peak resident
/// memory and CPU time from the kernel's accounting, through python3). Classes 3-5 are specs, which only the
/// generator reads (tests/PldrGen.Generator.Tests/HostileSpecTests.cs); the I64 half of class 12 is a library read
/// that pldr generate never makes (HostileFileTests).
/// </summary>
public sealed class HostileInputBoundsTests(ITestOutputHelper output)
{
    const double MaxSeconds = 2;
    const long MaxPeakBytes = 200L << 20;

    // Runs its arguments as a child and prints how it ended and what it cost.
    const string Measure = """
        import json, resource, subprocess, sys, time
        start = time.monotonic()
        p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True)
        wall = time.monotonic() - start
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(json.dumps({"exit": p.returncode, "stdout": len(p.stdout), "stderr": p.stderr.decode("utf-8", "replace"),
                          "wall": wall, "cpu": r.ru_utime + r.ru_stime, "peak": r.ru_maxrss * 1024}))
        """;

    sealed record Cost(int Exit, int Stdout, string Stderr, double Wall, double Cpu, long Peak);

    static Cost Run(string[] args)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] measured = ["-c", Measure, Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", Path.Combine(PldrProgram.Shipped.Directory, "pldr.dll"), .. args];
        foreach (var a in measured) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"pldr {string.Join(' ', args)} did not end within 60 s");
        }
        Assert.True(process.ExitCode == 0, stderr.Result);
        var json = JsonDocument.Parse(stdout.Result).RootElement;
        return new(json.GetProperty("exit").GetInt32(), json.GetProperty("stdout").GetInt32(), json.GetProperty("stderr").GetString()!,
            json.GetProperty("wall").GetDouble(), json.GetProperty("cpu").GetDouble(), json.GetProperty("peak").GetInt64());
    }

    static string DemoConfig(string replace, string with)
    {
        string json = File.ReadAllText(Path.Combine(PldrProgram.Shipped.DemoModel, "config.json"));
        Assert.Contains(replace, json);
        return json.Replace(replace, with);
    }

    static void Link(string path, string target) => File.CreateSymbolicLink(path, target);

    public static TheoryData<string> Classes => new(Inputs.Keys);

    /// <summary>Each class: the file it spoils, how, extra arguments, the exit code and what the line must say.</summary>
    static readonly Dictionary<string, (string File, Action<TempDirectory, string> Spoil, string[] Args, int Exit, string Says)> Inputs = new()
    {
        ["1 lone surrogate in config.json"] = ("config.json", (_, p) => File.WriteAllText(p, DemoConfig("\"pldrllm\"", "\"\\ud800\"")), [], 1,
            "config.json: field 'model_type' holds a string that is not text"),
        ["2 derived size past int"] = ("config.json", (_, p) => File.WriteAllText(p, DemoConfig("\"hidden_size\": 128,", "").Replace("\"head_dim\": 32", "\"head_dim\": 1073741824")), [], 1,
            "config.json: hidden_size is missing and num_attention_heads × head_dim"),
        ["6 FIFO as config.json"] = ("config.json", (_, p) => Process.Start("mkfifo", p).WaitForExit(), [], 1,
            "config.json: is empty or not a regular file (a pipe or a device)"),
        ["7 config.json linked to /dev/zero"] = ("config.json", (_, p) => Link(p, "/dev/zero"), [], 1, "config.json: is empty or not a regular file"),
        ["7 tokenizer.model linked to /dev/urandom"] = ("tokenizer.model", (_, p) => Link(p, "/dev/urandom"), [], 1, "tokenizer.model: is empty or not a regular file"),
        ["8 safetensors header of 200,000 empty tensors"] = ("model.safetensors", (_, p) => WriteEmptyTensors(p, 200_000), [], 1,
            "model.safetensors: the header has 200000 tensors and metadata entries, more than the 65536"),
        ["9 a 10 MB prompt"] = ("prompt.txt", (_, p) => File.WriteAllText(p, new StringBuilder().Insert(0, "ab c", 2_500_000).ToString()), ["--prompt-file", "PROMPT"], 1,
            "prompt.txt: 10000000 bytes, more than the 1048576 bytes a prompt file may have"),
        ["10 model.safetensors linked to /dev/zero"] = ("model.safetensors", (_, p) => Link(p, "/dev/zero"), [], 1, "model.safetensors: is empty or not a regular file"),
        ["11 temperature 1e-45"] = ("prompt.txt", (_, p) => File.WriteAllText(p, "The"), ["--temperature", "1e-45"], 1,
            "--temperature must be at least 0.0001"),
        ["12 a 60,000-byte tokenizer piece"] = ("tokenizer.model", (dir, p) => File.Move(HostileModelTests.WithPieces(dir, [new string('a', 60_000)], type: 1), p), [], 1,
            "tokenizer.model: not a PLDR-LLM SentencePiece model: piece 4096 has 60000 bytes"),
    };

    static void WriteEmptyTensors(string path, int count)
    {
        var header = new StringBuilder("{");
        for (int i = 0; i < count; i++) header.Append(i == 0 ? "" : ",").Append($"\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        byte[] json = Encoding.UTF8.GetBytes(header.Append('}').ToString());
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((long)json.Length));
        file.Write(json);
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Pldr_generate_refuses_it_in_one_line_within_2_s_and_200_MB(string name)
    {
        var (file, spoil, extra, exit, says) = Inputs[name];
        using var dir = new TempDirectory(); // the demo model in a folder of its own, one file made hostile
        foreach (var demoFile in new[] { "config.json", "model.safetensors", "tokenizer.model" })
            if (demoFile != file) File.Copy(Path.Combine(PldrProgram.Shipped.DemoModel, demoFile), dir.File(demoFile));
        spoil(dir, dir.File(file));
        string[] args = ["generate", "--model", dir.Path, .. extra.Select(a => a == "PROMPT" ? dir.File("prompt.txt") : a)];
        if (!extra.Contains("--prompt-file")) args = [.. args, "--prompt", "The import statement"];

        // CPU time and memory are the run's own; wall time on this shared machine also measures the neighbours, so a
        // run over 2 s of wall time is retried twice and the fastest counts.
        var runs = new List<Cost> { Run(args) };
        while (runs.Min(r => r.Wall) > MaxSeconds && runs.Count < 3) runs.Add(Run(args));
        var cost = runs.MinBy(r => r.Wall)!;
        output.WriteLine($"{name}: exit {cost.Exit}, {cost.Wall:0.00} s wall, {cost.Cpu:0.00} s CPU, peak {cost.Peak / 1e6:0} MB, {runs.Count} run(s): {cost.Stderr.TrimEnd()}");
        Assert.Equal(exit, cost.Exit);
        Assert.Equal(0, cost.Stdout);
        Assert.Matches(@"^pldr: [^\n]+\n$", cost.Stderr);
        Assert.Contains(says, cost.Stderr);
        Assert.True(cost.Wall <= MaxSeconds, $"{cost.Wall:0.00} s of wall time");
        Assert.True(cost.Cpu <= MaxSeconds, $"{cost.Cpu:0.00} s of CPU time");
        Assert.True(cost.Peak <= MaxPeakBytes, $"peak {cost.Peak >> 20} MB");
    }
}
