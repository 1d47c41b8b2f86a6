using System.Diagnostics;
using System.Globalization;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Kernels;
using PldrGen.Runtime.Generation;

namespace PldrGen.Bench;

/// <summary>
/// The engine with 1, 4, 16 and 64 concurrent sequences (128-token prompts, 64 greedy tokens each) on the 110M shape in
/// f32, bf16 and int8, interleaved round by round: aggregate decode tokens/s, its ratio to one sequence of the same
/// run, median time to first token and per-token latency (see <see cref="Measure"/>).
/// </summary>
static class EngineBench
{
    const int PromptLength = 128, NewTokens = 64;
    static readonly int[] Concurrency = [1, 4, 16, 64];

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        string f32 = RandomCheckpoint.Create(PldrV51_110M.ModelInfo, PldrV51_110M.TensorManifest, bf16: false);
        // -- engine [rounds] [f32|bf16|int8 …]: the precisions to run (all three by default)
        var precisions = args.Length > 1 ? args[1..] : ["f32", "bf16", "int8"];
        var models = precisions.Select(p => ($"110M {p}", (IPldrModel)PldrV51_110M.Load(f32, WeightPrecisionNames.Parse(p)))).ToArray();
        var random = new Random(42);
        var prompts = Enumerable.Range(0, Concurrency.Max()).Select(_ => Enumerable.Range(0, PromptLength).Select(_ => random.Next(4, 32000)).ToArray()).ToArray();
        var samples = new Dictionary<(string, int), List<Sample>>();
        Console.WriteLine($"PldrGen engine: {Environment.ProcessorCount} cores, {rounds} interleaved rounds, prompt {PromptLength}, {NewTokens} new tokens each, greedy");
        for (int round = -1; round < rounds; round++)
        {
            foreach (var (name, model) in models)
                foreach (int n in Concurrency)
                {
                    var sample = Measure(model, prompts[..n], NewTokens);
                    if (round < 0) continue;
                    if (!samples.TryGetValue((name, n), out var list)) samples[(name, n)] = list = [];
                    list.Add(sample);
                }
            Console.Error.Write(round < 0 ? "warm-up done " : $"round {round + 1} ");
        }
        Console.Error.WriteLine();
        Console.WriteLine("model       sequences  decode tok/s  × single  first token ms  ms/token (× single)  ms between tokens (× single)  steady ms/token (× single)");
        foreach (var (name, _) in models)
        {
            double Median(int n, Func<Sample, double> field) => RatioReport.Median([.. samples[(name, n)].Select(field)]);
            foreach (int n in Concurrency)
            {
                double rate = Median(n, s => s.DecodeTokS), token = Median(n, s => s.TokenMs), gap = Median(n, s => s.GapMs), steady = Median(n, s => s.SteadyMs);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-11} {n,9} {rate,13:F1} {rate / Median(1, s => s.DecodeTokS),8:F2}× {Median(n, s => s.FirstTokenMs),15:F1} {token,9:F2} ({token / Median(1, s => s.TokenMs),5:F2}×) {gap,16:F2} ({gap / Median(1, s => s.GapMs),5:F2}×) {steady,15:F2} ({steady / Median(1, s => s.SteadyMs),5:F2}×)"));
            }
        }
        return 0;
    }

    /// <summary>
    /// All prompts submitted at once to an engine with one slot each, every stream read as it comes: aggregate
    /// decode tokens/s (tokens after each first one, over the time not spent in prefill), the median time to first
    /// token, the median over sequences of their mean time per token after the first (which counts the steps that
    /// waited for another sequence's prefill), the median gap between two tokens of a stream, and the steady per-token
    /// latency: the mean gap while every stream decodes, from the last first token to the first stream's end (each step
    /// then gives every stream one token, so this is the mean step of all n rows, what llama.cpp's batched bench
    /// reports). Without <paramref name="prefillBudget"/>
    /// the engine keeps its default <see cref="EngineOptions.PrefillBudget"/>.
    /// </summary>
    internal static Sample Measure(IPldrModel model, int[][] prompts, int newTokens, int? prefillBudget = null)
    {
        var slots = new EngineOptions { Slots = prompts.Length };
        using var engine = new PldrEngine(model, tokenizer: null, prefillBudget is { } budget ? slots with { PrefillBudget = budget } : slots);
        var options = new GenerateOptions { MaxTokens = newTokens, IgnoreEos = true, Sampling = SamplingOptions.Greedy };
        var arrivals = prompts.Select(_ => new List<long>()).ToArray(); // each stream's token timestamps
        var clock = Stopwatch.StartNew();
        var results = Task.WhenAll(prompts.Select((p, i) => Task.Run(async () =>
        {
            GenerateFinish? finish = null;
            await foreach (var token in engine.GenerateAsync(p, options))
            {
                arrivals[i].Add(Stopwatch.GetTimestamp());
                finish = token.Finish;
            }
            return finish!;
        }))).GetAwaiter().GetResult();
        double wall = clock.Elapsed.TotalSeconds;
        double prefill = results.Sum(r => r.Timings.Prefill.TotalSeconds);
        int decoded = results.Sum(r => r.Timings.GeneratedTokens - 1);
        long allDecoding = arrivals.Max(a => a[0]), firstDone = arrivals.Min(a => a[^1]);
        var gaps = arrivals.SelectMany(a => a.Zip(a.Skip(1), (from, to) => (From: from, To: to, Ms: Stopwatch.GetElapsedTime(from, to).TotalMilliseconds))).ToArray();
        return new(decoded / (wall - prefill),
            RatioReport.Median([.. results.Select(r => r.Timings.FirstToken.TotalMilliseconds)]),
            RatioReport.Median([.. results.Select(r => r.Timings.Decode.TotalMilliseconds / (r.Timings.GeneratedTokens - 1))]),
            RatioReport.Median([.. gaps.Select(g => g.Ms)]),
            gaps.Where(g => g.From >= allDecoding && g.To <= firstDone).Select(g => g.Ms).DefaultIfEmpty(double.NaN).Average());
    }

    /// <summary>One measurement: decode tok/s, and milliseconds to the first token, per token, between tokens, per
    /// token once every stream decodes.</summary>
    internal sealed record Sample(double DecodeTokS, double FirstTokenMs, double TokenMs, double GapMs, double SteadyMs);
}
