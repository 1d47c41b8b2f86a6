using System.Diagnostics;
using System.Globalization;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Generation;

namespace PldrGen.Bench;

/// <summary>
/// What sampling adds to a decode step: decode ms/token drawing with the default top-p 0.9 against greedy, on the
/// 110M shape (vocabulary 32,000) and the demo model (4,096), interleaved round by round, medians and ratios; and
/// the draw alone, against the sort the sampler used to do (top-p by sorting the whole vocabulary).
/// </summary>
static class SamplingBench
{
    const int PromptLength = 128, DecodeTokens = 64;

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7;
        var models = new (string Name, IPldrModel Model)[]
        {
            ("110M f32", PldrV51_110M.Load(RandomCheckpoint.Create(PldrV51_110M.ModelInfo, PldrV51_110M.TensorManifest, bf16: false))),
            ("demo (pydoc 2M) f32", PldrTinyPydoc.Load(Path.Combine(AppContext.BaseDirectory, "models", "pldr-tiny-pydoc"))),
        };
        var modes = new (string Name, SamplingOptions Options)[] { ("greedy", SamplingOptions.Greedy), ("top-p 0.9", new(TopP: 0.9f, Seed: 1)) };
        var random = new Random(42);
        var prompt = Enumerable.Range(0, PromptLength).Select(_ => random.Next(4, 4096)).ToArray();
        var decode = new Dictionary<(string, string), List<double>>();
        var draw = new Dictionary<(string, string), List<double>>();
        Console.WriteLine($"PldrGen sampling cost: {Environment.ProcessorCount} cores, {rounds} interleaved rounds, prompt {PromptLength}, decode {DecodeTokens}");
        for (int round = -1; round < rounds; round++)
        {
            foreach (var (name, model) in models)
            {
                foreach (var (mode, options) in modes)
                {
                    double ms = DecodeMsPerToken(model, prompt, new Sampler(options, model.Info.Config.VocabSize));
                    if (round >= 0) Add(decode, (name, mode), ms);
                }
                var logits = model.Prefill(prompt.AsSpan(0, Math.Min(PromptLength, model.Info.Config.MaxPositionEmbeddings - 1))).ToArray();
                foreach (var (mode, options) in modes)
                {
                    var sampler = new Sampler(options, logits.Length);
                    double ms = MsPerCall(() => sampler.Next(logits));
                    if (round >= 0) Add(draw, (name, mode), ms);
                }
                var sorted = new float[logits.Length];
                double sortMs = MsPerCall(() => SortedTopPThreshold(logits, sorted, 0.9f));
                if (round >= 0) Add(draw, (name, "sorting top-p"), sortMs);
            }
            Console.Error.Write(round < 0 ? "warm-up done " : $"round {round + 1} ");
        }
        Console.Error.WriteLine();
        Console.WriteLine("model                  decode ms/tok greedy  top-p 0.9  added | draw ms greedy  top-p 0.9  sorting top-p  speed-up");
        foreach (var (name, _) in models)
        {
            double g = RatioReport.Median(decode[(name, "greedy")]), p = RatioReport.Median(decode[(name, "top-p 0.9")]);
            double dg = RatioReport.Median(draw[(name, "greedy")]), dp = RatioReport.Median(draw[(name, "top-p 0.9")]), ds = RatioReport.Median(draw[(name, "sorting top-p")]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-22} {g,20:F3} {p,10:F3} {p / g - 1,6:P1} | {dg,14:F4} {dp,10:F4} {ds,14:F4} {ds / dp,8:F1}×"));
        }
        return 0;
    }

    /// <summary>Prefill, then DecodeTokens steps each drawing its token with <paramref name="sampler"/>.</summary>
    static double DecodeMsPerToken(IPldrModel model, int[] prompt, Sampler sampler)
    {
        var logits = model.Prefill(prompt.AsSpan(0, Math.Min(prompt.Length, model.Info.Config.MaxPositionEmbeddings - DecodeTokens)));
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < DecodeTokens; i++) logits = model.Decode(sampler.Next(logits));
        return clock.Elapsed.TotalMilliseconds / DecodeTokens;
    }

    static double MsPerCall(Action call)
    {
        const int calls = 200;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++) call();
        return clock.Elapsed.TotalMilliseconds / calls;
    }

    /// <summary>The former sampler's top-p: sort the whole vocabulary, softmax, cumulative sum (the peer).</summary>
    static float SortedTopPThreshold(float[] logits, float[] sorted, float p)
    {
        logits.CopyTo(sorted);
        sorted.AsSpan().Sort(static (a, b) => b.CompareTo(a));
        float max = sorted[0], cumulative = 0;
        float total = 0;
        foreach (float x in sorted) total += MathF.Exp(x - max);
        int kept = 0;
        foreach (float x in sorted)
        {
            cumulative += MathF.Exp(x - max) / total;
            if (cumulative <= p) kept++;
        }
        return sorted[Math.Max(kept - 1, 0)];
    }

    static void Add(Dictionary<(string, string), List<double>> samples, (string, string) key, double value)
    {
        if (!samples.TryGetValue(key, out var list)) samples[key] = list = [];
        list.Add(value);
    }
}
