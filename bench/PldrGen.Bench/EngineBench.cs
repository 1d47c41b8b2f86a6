using System.Diagnostics;
using System.Globalization;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Bench;

/// <summary>
/// The engine with 1, 4 and 16 concurrent sequences (128-token prompts, 64 greedy tokens each) on the 110M shape in
/// f32, bf16 and int8, interleaved round by round: aggregate decode tokens/s, its ratio to one sequence of the same
/// run, median time to first token and per-token latency.
/// </summary>
static class EngineBench
{
    const int PromptLength = 128, NewTokens = 64;
    static readonly int[] Concurrency = [1, 4, 16];

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        string f32 = RandomCheckpoint.Create(PldrV51_110M.ModelInfo, PldrV51_110M.TensorManifest, bf16: false);
        // -- engine [rounds] [f32|bf16|int8 …]: the precisions to run (all three by default)
        var precisions = args.Length > 1 ? args[1..] : ["f32", "bf16", "int8"];
        var models = precisions.Select(p => ($"110M {p}", (IPldrModel)PldrV51_110M.Load(f32, p switch
        {
            "bf16" => WeightPrecision.BFloat16,
            "int8" => WeightPrecision.Int8,
            _ => WeightPrecision.Float32,
        }))).ToArray();
        var random = new Random(42);
        var prompts = Enumerable.Range(0, Concurrency.Max()).Select(_ => Enumerable.Range(0, PromptLength).Select(_ => random.Next(4, 32000)).ToArray()).ToArray();
        var samples = new Dictionary<(string, int), List<(double TokensPerSecond, double FirstTokenMs, double TokenMs)>>();
        Console.WriteLine($"PldrGen engine: {Environment.ProcessorCount} cores, {rounds} interleaved rounds, prompt {PromptLength}, {NewTokens} new tokens each, greedy");
        for (int round = -1; round < rounds; round++)
        {
            foreach (var (name, model) in models)
                foreach (int n in Concurrency)
                {
                    var sample = Measure(model, prompts[..n]);
                    if (round < 0) continue;
                    if (!samples.TryGetValue((name, n), out var list)) samples[(name, n)] = list = [];
                    list.Add(sample);
                }
            Console.Error.Write(round < 0 ? "warm-up done " : $"round {round + 1} ");
        }
        Console.Error.WriteLine();
        Console.WriteLine("model       sequences  decode tok/s  × single  first token ms  ms/token (each)");
        foreach (var (name, _) in models)
        {
            double single = RatioReport.Median(samples[(name, 1)].Select(s => s.TokensPerSecond).ToList());
            foreach (int n in Concurrency)
            {
                var s = samples[(name, n)];
                double rate = RatioReport.Median(s.Select(x => x.TokensPerSecond).ToList());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-11} {n,9} {rate,13:F1} {rate / single,8:F2}× {RatioReport.Median(s.Select(x => x.FirstTokenMs).ToList()),15:F1} {RatioReport.Median(s.Select(x => x.TokenMs).ToList()),16:F2}"));
            }
        }
        return 0;
    }

    /// <summary>All prompts submitted at once to an engine with one slot each.</summary>
    static (double, double, double) Measure(IPldrModel model, int[][] prompts)
    {
        using var engine = new PldrEngine(model, tokenizer: null, new EngineOptions { Slots = prompts.Length });
        var options = new GenerateOptions { MaxTokens = NewTokens, IgnoreEos = true, Sampling = SamplingOptions.Greedy };
        var clock = Stopwatch.StartNew();
        var results = Task.WhenAll(prompts.Select(p => engine.CompleteAsync(p, options))).GetAwaiter().GetResult();
        double wall = clock.Elapsed.TotalSeconds;
        double prefill = results.Sum(r => r.Timings.Prefill.TotalSeconds);
        int decoded = results.Sum(r => r.Tokens.Count - 1);
        var firstToken = results.Select(r => r.Timings.FirstToken.TotalMilliseconds).ToList();
        var perToken = results.Select(r => r.Timings.Decode.TotalMilliseconds / (r.Tokens.Count - 1)).ToList();
        return (decoded / (wall - prefill), RatioReport.Median(firstToken), RatioReport.Median(perToken));
    }
}
