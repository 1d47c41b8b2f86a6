using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using LLama;
using LLama.Batched;
using LLama.Common;
using LLama.Native;
using PldrGen.Models;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Bench;

/// <summary>
/// Many sequences at once, PldrGen's engine beside llama.cpp's batched API (LLamaSharp 0.30.0's
/// <see cref="BatchedExecutor"/>, one <see cref="Conversation"/> per sequence, CPU backend) on the same-size models as
/// <c>vs-llama</c>: 1, 4, 16 and 64 concurrent sequences, each a 128-token random prompt then 64 greedy tokens, in
/// fp32, 16-bit and 8-bit. Each point is a fresh process (after a short warm-up request), the engines interleaved
/// point by point and round by round, the same thread count. Reported per point: aggregate decode tokens/s (every
/// sequence's tokens after its first, over the time not spent in prefill), the median time to first token, the
/// per-token latencies (<see cref="EngineBench.Measure"/>; llama.cpp's are its mean and median decode step), and the
/// process's peak resident memory. The steady per-token latency (the mean step once every stream decodes) is the
/// figure both engines measure alike.
/// PldrGen spreads prefill over its turns (<c>EngineOptions.PrefillBudget</c>, so running streams keep their
/// pace and their ms/token counts the turns that also prefilled others) while llama.cpp prefills every prompt in
/// 512-token batches before the first decode step, as <c>llama-batched-bench</c> does; at 16 sequences PldrGen also
/// runs that way (budget <see cref="int.MaxValue"/>, "pldr-first"), so per-token latency compares like with like.
/// </summary>
static class VsLlamaBatched
{
    const int PromptLength = 128, NewTokens = 64;
    static readonly int[] Concurrency = [1, 4, 16, 64];
    const int PrefillFirstAt = 16;

    sealed record Point(EngineBench.Sample Sample, double PeakMiB);

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1;
        string? save = args.Length > 1 ? args[1] : null;
        // [f32|bf16|int8 …]: the precisions to run (all three by default)
        (string Label, string Pldr, string Gguf)[] precisions = args.Length > 2 ? [.. VsLlamaCpp.Precisions.Where(p => args[2..].Contains(p.Pldr))] : VsLlamaCpp.Precisions;
        int threads = Environment.ProcessorCount;
        string work = Path.Combine(Path.GetTempPath(), "pldrgen-vs-llama");
        Directory.CreateDirectory(work);
        string checkpoint = RandomCheckpoint.Create(PldrV51_110M.ModelInfo, PldrV51_110M.TensorManifest, bf16: false);
        foreach (var (_, _, gguf) in precisions) VsLlamaCpp.MakeGguf(Path.Combine(work, $"llama-110m-{gguf}.gguf"), gguf);
        var report = new StringWriter();
        report.WriteLine($"PldrGen engine vs llama.cpp batched (LLamaSharp 0.30.0 BatchedExecutor), 110M shape: {threads} threads, {rounds} interleaved round(s), fresh process per point, prompt {PromptLength}, {NewTokens} greedy tokens per sequence, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

        var results = new Dictionary<(string Engine, string Label, int N), List<Point>>();
        for (int round = 0; round < rounds; round++)
            foreach (var (label, pldr, gguf) in precisions)
                foreach (int n in Concurrency)
                {
                    Record(results, ("pldr", label, n), checkpoint, pldr, n, threads);
                    Record(results, ("llama", label, n), Path.Combine(work, $"llama-110m-{gguf}.gguf"), gguf, n, threads);
                    if (n == PrefillFirstAt) Record(results, ("pldr-first", label, n), checkpoint, pldr, n, threads);
                }

        report.WriteLine();
        report.WriteLine("medians: PldrGen / llama.cpp     seqs | decode tok/s (PldrGen ÷ llama) | × single     | first token ms  | ms/token (× single)            | ms between tokens (× single)   | steady ms/token (× single)     | peak MiB");
        foreach (var (label, _, _) in precisions)
        {
            EngineBench.Sample Of(string engine, int n) => MedianPoint(results[(engine, label, n)]).Sample;
            foreach (int n in Concurrency)
            {
                var (p, l, p1, l1) = (Of("pldr", n), Of("llama", n), Of("pldr", 1), Of("llama", 1));
                double pm = MedianPoint(results[("pldr", label, n)]).PeakMiB, lm = MedianPoint(results[("llama", label, n)]).PeakMiB;
                report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{label,-30} {n,5} | {p.DecodeTokS,7:F1} / {l.DecodeTokS,7:F1} ({p.DecodeTokS / l.DecodeTokS,5:F2}×) | {p.DecodeTokS / p1.DecodeTokS,5:F2} / {l.DecodeTokS / l1.DecodeTokS,5:F2} | {p.FirstTokenMs,6:F0} / {l.FirstTokenMs,6:F0} | {p.TokenMs,6:F1} ({p.TokenMs / p1.TokenMs,4:F2}) / {l.TokenMs,6:F1} ({l.TokenMs / l1.TokenMs,4:F2}) | {p.GapMs,6:F1} ({p.GapMs / p1.GapMs,4:F2}) / {l.GapMs,6:F1} ({l.GapMs / l1.GapMs,4:F2}) | {p.SteadyMs,6:F1} ({p.SteadyMs / p1.SteadyMs,4:F2}) / {l.SteadyMs,6:F1} ({l.SteadyMs / l1.SteadyMs,4:F2}) | {pm,5:F0} / {lm,5:F0}"));
            }
        }
        report.WriteLine();
        report.WriteLine($"PldrGen prefilling every prompt before decoding (as llama.cpp here), {PrefillFirstAt} sequences | decode tok/s (× single) | first token ms | ms/token (× single) | ms between tokens (× single) | steady ms/token (× single)");
        foreach (var (label, _, _) in precisions)
        {
            var (f, p1) = (MedianPoint(results[("pldr-first", label, PrefillFirstAt)]).Sample, MedianPoint(results[("pldr", label, 1)]).Sample);
            report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-30} | {f.DecodeTokS,7:F1} ({f.DecodeTokS / p1.DecodeTokS,5:F2}) | {f.FirstTokenMs,6:F0} | {f.TokenMs,6:F1} ({f.TokenMs / p1.TokenMs,4:F2}) | {f.GapMs,6:F1} ({f.GapMs / p1.GapMs,4:F2}) | {f.SteadyMs,6:F1} ({f.SteadyMs / p1.SteadyMs,4:F2})"));
        }
        Console.Write(report);
        if (save is not null) File.WriteAllText(save, report.ToString());
        return 0;
    }

    /// <summary>One point in a child process: `vs-llama-batched-child ENGINE MODEL PRECISION SEQUENCES THREADS`.</summary>
    public static int RunChild(string[] args)
    {
        string engine = args[0], model = args[1], precision = args[2];
        int n = int.Parse(args[3], CultureInfo.InvariantCulture), threads = int.Parse(args[4], CultureInfo.InvariantCulture);
        var random = new Random(42);
        var prompts = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, PromptLength).Select(_ => random.Next(4, 4096)).ToArray()).ToArray();
        var s = engine == "llama" ? TimeLlama(model, prompts, threads) : TimePldr(model, precision, prompts, engine == "pldr-first" ? int.MaxValue : null);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {s.DecodeTokS:F3} {s.FirstTokenMs:F3} {s.TokenMs:F3} {s.GapMs:F3} {s.SteadyMs:F3} {VsLlamaCpp.PeakResidentMiB():F1}"));
        return 0;
    }

    static EngineBench.Sample TimePldr(string checkpoint, string precision, int[][] prompts, int? prefillBudget)
    {
        var model = PldrV51_110M.Load(checkpoint, WeightPrecisionNames.Parse(precision));
        EngineBench.Measure(model, [prompts[0][..16]], newTokens: 4); // warm-up: the kernels tiered up
        return EngineBench.Measure(model, prompts, NewTokens, prefillBudget);
    }

    static EngineBench.Sample TimeLlama(string gguf, int[][] prompts, int threads)
    {
        int n = prompts.Length;
        var parameters = new ModelParams(gguf)
        {
            ContextSize = (uint)(n * 2 * (PromptLength + NewTokens)), BatchSize = 512, UBatchSize = 512, SeqMax = (uint)n,
            Threads = threads, BatchThreads = threads, GpuLayerCount = 0,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var executor = new BatchedExecutor(weights, parameters);
        Generate(executor, [prompts[0][..16]], newTokens: 4); // warm-up, then its sequence is dropped
        return Generate(executor, prompts, NewTokens);
    }

    /// <summary>Every prompt prefilled (one 512-token batch per inference), then one batched step per token for all.</summary>
    static EngineBench.Sample Generate(BatchedExecutor executor, int[][] prompts, int newTokens)
    {
        int n = prompts.Length;
        var conversations = prompts.Select(_ => executor.Create()).ToArray();
        var next = new int[n];
        var firstToken = new double[n];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) conversations[i].Prompt(prompts[i].Select(t => (LLamaToken)t).ToArray().AsSpan());
        var sampled = new bool[n];
        while (executor.BatchQueueCount > 0)
        {
            VsLlamaCpp.Check(executor.Infer().GetAwaiter().GetResult());
            for (int i = 0; i < n; i++)
                if (!sampled[i] && conversations[i].RequiresSampling)
                {
                    next[i] = TensorPrimitives.IndexOfMax(conversations[i].Sample());
                    firstToken[i] = clock.Elapsed.TotalMilliseconds;
                    sampled[i] = true;
                }
        }
        double prefilled = clock.Elapsed.TotalSeconds;
        var steps = new List<double>();
        for (int t = 1; t < newTokens; t++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++) conversations[i].Prompt((LLamaToken)next[i]);
            VsLlamaCpp.Check(executor.Infer().GetAwaiter().GetResult());
            for (int i = 0; i < n; i++) next[i] = TensorPrimitives.IndexOfMax(conversations[i].Sample());
            steps.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        double decode = clock.Elapsed.TotalSeconds - prefilled;
        foreach (var conversation in conversations) conversation.Dispose();
        // every stream gets a token per step: its time per token is the mean step, its gap the median step
        return new(n * (newTokens - 1) / decode, RatioReport.Median([.. firstToken]), steps.Average(), RatioReport.Median(steps), steps.Average());
    }

    static void Record(Dictionary<(string, string, int), List<Point>> results, (string Engine, string Label, int N) key, string model, string precision, int n, int threads)
    {
        var f = VsLlamaCpp.ChildResult($"{key.Engine} {precision} {n}", "vs-llama-batched-child", key.Engine, model, precision,
            n.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture));
        var point = new Point(new EngineBench.Sample(f[0], f[1], f[2], f[3], f[4]), f[5]);
        if (!results.TryGetValue(key, out var list)) results[key] = list = [];
        list.Add(point);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{key.Engine} {key.Label} ×{n}: decode {point.Sample.DecodeTokS:F1} tok/s, first token {point.Sample.FirstTokenMs:F0} ms, {point.Sample.TokenMs:F1} ms/token, {point.Sample.GapMs:F1} ms between tokens, steady {point.Sample.SteadyMs:F1} ms/token, peak {point.PeakMiB:F0} MiB"));
    }

    static Point MedianPoint(List<Point> points)
    {
        double Median(Func<Point, double> field) => RatioReport.Median([.. points.Select(field)]);
        return new(new EngineBench.Sample(Median(p => p.Sample.DecodeTokS), Median(p => p.Sample.FirstTokenMs), Median(p => p.Sample.TokenMs), Median(p => p.Sample.GapMs), Median(p => p.Sample.SteadyMs)), Median(p => p.PeakMiB));
    }
}
