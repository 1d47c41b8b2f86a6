using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Reflection;
using System.Text.Json;
using LLama;
using LLama.Common;
using LLama.Native;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Bench;

/// <summary>
/// PldrGen beside llama.cpp (LLamaSharp 0.30.0, CPU backend) on models of the same size: PldrGen's 110M shape with
/// seeded random weights, and a LLaMA GGUF of the same width, depth, heads, n_ff and vocabulary written by
/// <c>bench/make_llama_gguf.py</c> in F32, F16 and Q8_0. Every measurement is a fresh process, as a user's run is:
/// PldrGen's is the <c>pldr</c> program itself (its JIT build, what <c>dotnet run</c> and the .NET tool give),
/// <c>pldr generate --stats</c> on 128 or 512 random tokens with 64 greedy decode steps after the prompt's token;
/// llama.cpp's is a child of this bench doing the same through LLamaSharp. Both warm up after load as llama.cpp's own
/// tools do (pldr by default; the llama.cpp child with an 8-token batch and one step, then a cleared memory). Both
/// engines run with the same thread count, interleaved round by round; the table shows medians, PldrGen ÷ llama.cpp
/// and each process's peak resident memory.
/// </summary>
static class VsLlamaCpp
{
    const int DecodeTokens = 64;
    static readonly int[] PromptLengths = [128, 512];

    // PldrGen's precision, llama.cpp's GGUF type, and the table's label; bf16 and f16 both meet llama.cpp's F16.
    internal static readonly (string Label, string Pldr, string Gguf)[] Precisions =
        [("fp32", "f32", "f32"), ("16-bit (bf16 / F16)", "bf16", "f16"), ("16-bit (f16 / F16)", "f16", "f16"), ("8-bit (int8 / Q8_0)", "int8", "q8_0")];
    static readonly string[] GgufTypes = Precisions.Select(p => p.Gguf).Distinct().ToArray();

    sealed record Result(double PrefillTokS, double DecodeTokS, double PeakMiB);

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        int threads = Environment.ProcessorCount;
        string work = Path.Combine(Path.GetTempPath(), "pldrgen-vs-llama");
        Directory.CreateDirectory(work);
        string checkpoint = RandomCheckpoint.Create(PldrV51_110M.ModelInfo, PldrV51_110M.TensorManifest, bf16: false);
        foreach (var gguf in GgufTypes) MakeGguf(Path.Combine(work, $"llama-110m-{gguf}.gguf"), gguf);
        Console.WriteLine($"PldrGen vs llama.cpp (LLamaSharp 0.30.0): {threads} threads, {rounds} interleaved rounds, fresh process per run, prompt {string.Join(" / ", PromptLengths)} then {DecodeTokens} greedy decode steps");

        var results = new Dictionary<string, List<Result>>();
        for (int round = 0; round < rounds; round++)
        {
            foreach (int prompt in PromptLengths)
                foreach (var gguf in GgufTypes)
                {
                    foreach (var (_, pldr, _) in Precisions.Where(p => p.Gguf == gguf))
                        Record(results, $"pldr {pldr} {prompt}", PldrGenerate(checkpoint, pldr, prompt, threads));
                    Record(results, $"llama {gguf} {prompt}", LlamaChild(Path.Combine(work, $"llama-110m-{gguf}.gguf"), prompt, threads));
                }
            Console.Error.WriteLine($"round {round + 1} done");
        }

        Console.WriteLine();
        Console.WriteLine("tok/s (median)                     prompt | PldrGen prefill / decode | llama.cpp prefill / decode | PldrGen ÷ llama.cpp prefill / decode");
        foreach (var (label, pldr, gguf) in Precisions)
            foreach (int prompt in PromptLengths)
            {
                var p = results[$"pldr {pldr} {prompt}"];
                var l = results[$"llama {gguf} {prompt}"];
                double pp = Median(p, r => r.PrefillTokS), pd = Median(p, r => r.DecodeTokS);
                double lp = Median(l, r => r.PrefillTokS), ld = Median(l, r => r.DecodeTokS);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{label,-34} {prompt,6} | {pp,11:F1} / {pd,10:F1} | {lp,13:F1} / {ld,10:F1} | {pp / lp,18:F2} / {pd / ld,6:F2}"));
            }
        Console.WriteLine();
        Console.WriteLine("peak memory, MiB (median, 512-token prompt) | PldrGen | llama.cpp | PldrGen ÷ llama.cpp");
        foreach (var (label, pldr, gguf) in Precisions)
        {
            double p = Median(results[$"pldr {pldr} 512"], r => r.PeakMiB), l = Median(results[$"llama {gguf} 512"], r => r.PeakMiB);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,-43} | {p,7:F0} | {l,9:F0} | {p / l,6:F2}×"));
        }
        return 0;
    }

    /// <summary>The same random prompt for both engines (ids clear of the special tokens).</summary>
    static int[] Prompt(int length)
    {
        var random = new Random(42);
        return [.. Enumerable.Range(0, length).Select(_ => random.Next(4, 4096))];
    }

    /// <summary>
    /// One <c>pldr generate --stats</c> run of the program this bench was built beside; its JSON line gives the
    /// figures. One token more than the decode steps: pldr counts the prompt's own token as generated.
    /// </summary>
    static Result PldrGenerate(string checkpoint, string precision, int promptLength, int threads)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[PldrProgram, "generate", "--model", checkpoint, "--tokens", string.Join(',', Prompt(promptLength)), "--greedy",
            "--ignore-eos", "--max-new-tokens", (DecodeTokens + 1).ToString(CultureInfo.InvariantCulture), "--weights", precision,
            "--threads", threads.ToString(CultureInfo.InvariantCulture), "--stats"])
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        _ = stdout.Result;
        string last = stderr.TrimEnd().Split('\n')[^1];
        if (process.ExitCode != 0 || !last.StartsWith('{'))
            throw new InvalidOperationException($"pldr {precision} {promptLength}: exit {process.ExitCode}: {stderr[^Math.Min(2000, stderr.Length)..]}");
        using var stats = JsonDocument.Parse(last);
        var root = stats.RootElement;
        if (root.GetProperty("decode_tokens").GetInt32() != DecodeTokens) throw new InvalidOperationException($"pldr {precision} {promptLength}: {last}");
        return new(root.GetProperty("prefill_tokens_per_second").GetDouble(), root.GetProperty("decode_tokens_per_second").GetDouble(),
            root.GetProperty("peak_memory_mib").GetDouble());
    }

    /// <summary>The pldr program's JIT build, recorded at build time (PldrGen.Bench.csproj).</summary>
    static string PldrProgram => typeof(VsLlamaCpp).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "PldrProgram").Value!;

    /// <summary>One llama.cpp measurement in a child process: `vs-llama-child GGUF PROMPT THREADS`.</summary>
    public static int RunChild(string[] args)
    {
        string model = args[0];
        int promptLength = int.Parse(args[1], CultureInfo.InvariantCulture), threads = int.Parse(args[2], CultureInfo.InvariantCulture);
        var (prefillMs, decodeMs) = TimeLlama(model, Prompt(promptLength), threads);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {promptLength / (prefillMs / 1e3):F3} {DecodeTokens / (decodeMs / 1e3):F3} {PeakResidentMiB():F1}"));
        return 0;
    }

    static (double, double) TimeLlama(string gguf, int[] prompt, int threads)
    {
        var parameters = new ModelParams(gguf)
        {
            ContextSize = 1024, BatchSize = 512, UBatchSize = 512, Threads = threads, BatchThreads = threads, GpuLayerCount = 0,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        WarmUp(context, batch);
        for (int i = 0; i < prompt.Length; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
        var clock = Stopwatch.StartNew();
        Check(context.Decode(batch));
        int token = TensorPrimitives.IndexOfMax(context.NativeHandle.GetLogitsIth(prompt.Length - 1));
        double prefill = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        for (int i = 0; i < DecodeTokens; i++)
        {
            batch.Clear();
            batch.Add(token, prompt.Length + i, LLamaSeqId.Zero, true);
            Check(context.Decode(batch));
            token = TensorPrimitives.IndexOfMax(context.NativeHandle.GetLogitsIth(0));
        }
        return (prefill, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>pldr's warm-up for llama.cpp: an 8-token batch and one step, then the memory cleared (as llama.cpp's tools warm up).</summary>
    static void WarmUp(LLamaContext context, LLamaBatch batch)
    {
        for (int i = 0; i < ModelWarmUp.PrefillTokens; i++) batch.Add(i, i, LLamaSeqId.Zero, i == ModelWarmUp.PrefillTokens - 1);
        Check(context.Decode(batch));
        batch.Clear();
        batch.Add(0, ModelWarmUp.PrefillTokens, LLamaSeqId.Zero, true);
        Check(context.Decode(batch));
        batch.Clear();
        context.NativeHandle.MemoryClear();
    }

    internal static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode returned {result}");
    }

    static Result LlamaChild(string gguf, int prompt, int threads)
    {
        var f = ChildResult($"llama {Path.GetFileName(gguf)} {prompt}", "vs-llama-child", gguf, prompt.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture));
        return new(f[0], f[1], f[2]);
    }

    /// <summary>Runs this bench program with <paramref name="args"/> in a fresh process; returns the numbers of its RESULT line.</summary>
    internal static double[] ChildResult(string what, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(VsLlamaCpp).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_TieredCompilation"] = "0"; // as the pldr program runs (src/PldrGen.Cli/PldrProgram.props)
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = stdout.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"{what}: no result (exit {process.ExitCode}): {stderr.Result[^Math.Min(2000, stderr.Result.Length)..]}");
        return [.. line.Split(' ').Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture))];
    }

    internal static void MakeGguf(string path, string type)
    {
        if (File.Exists(path)) return;
        string script = Path.Combine(AppContext.BaseDirectory, "make_llama_gguf.py");
        using var process = Process.Start("python3", [script, path + ".tmp", type]);
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed for {type}");
        File.Move(path + ".tmp", path);
    }

    static void Record(Dictionary<string, List<Result>> results, string key, Result result)
    {
        if (!results.TryGetValue(key, out var list)) results[key] = list = [];
        list.Add(result);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{key}: prefill {result.PrefillTokS:F1} tok/s, decode {result.DecodeTokS:F1} tok/s, peak {result.PeakMiB:F0} MiB"));
    }

    /// <summary>VmHWM of this process: the peak resident set, in MiB.</summary>
    internal static double PeakResidentMiB()
    {
        using var self = Process.GetCurrentProcess(); // VmHWM on Linux, as pldr's --stats reads it
        return self.PeakWorkingSet64 / (1024.0 * 1024);
    }

    static double Median(List<Result> values, Func<Result, double> field)
    {
        var sorted = values.Select(field).Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
