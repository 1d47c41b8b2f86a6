using System.CommandLine;
using System.Diagnostics;
using PldrGen.Runtime;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Kernels;

namespace PldrGen.CommandLine;

/// <summary>The options of a generating command (generate, chat): how many tokens, how to sample, where to run.</summary>
sealed class RunOptions
{
    public Option<int> MaxNewTokens { get; } = new("--max-new-tokens", "-n") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 64, HelpName = "N" };
    public Option<bool> Greedy { get; } = new("--greedy") { Description = "Always take the likeliest token (top-k 1)" };
    public Option<float> Temperature { get; } = new("--temperature") { Description = "Divide logits by T when T < 1 (0 < T ≤ 1)", DefaultValueFactory = _ => 1f, HelpName = "T" };
    public Option<int> TopK { get; } = new("--top-k") { Description = "Keep the K likeliest tokens (0 = off)", DefaultValueFactory = _ => 0, HelpName = "K" };
    public Option<float> TopP { get; } = new("--top-p") { Description = "Keep the likeliest tokens while their cumulative probability ≤ P", DefaultValueFactory = _ => 0.9f, HelpName = "P" };
    public Option<int> Seed { get; } = new("--seed", "-s") { Description = "Random seed: the same seed gives the same text", DefaultValueFactory = _ => 0, HelpName = "S" };
    public Option<bool> IgnoreEos { get; } = new("--ignore-eos") { Description = "Keep generating after [END]" };
    public Option<int> Threads { get; } = new("--threads", "-t") { Description = "CPU threads (default: one per core)", DefaultValueFactory = _ => Environment.ProcessorCount, HelpName = "N" };
    const string Stored = "stored"; // --weights: keep the file's precision

    public Option<string> Weights { get; } = new("--weights")
    {
        Description = "Weight matrices in memory: stored (as in the file), f32, bf16 or f16 (half the bytes per token) or int8 (about a quarter: llama.cpp's Q8_0, scales per 32 weights); bf16 and f16 from f32, and int8, are lossy",
        DefaultValueFactory = _ => Stored, HelpName = "FORMAT",
    };
    public Option<string> Device { get; } = new("--device")
    {
        Description = $"Where to run: {string.Join(", ", PldrDevices.Names)}", DefaultValueFactory = _ => PldrDevices.Cpu, HelpName = "DEVICE",
    };

    public Option<string> Progress { get; } = ProgressOption.Create();
    public Option<bool> NoWarmUp { get; } = NoWarmUpOption();

    /// <summary>--no-warmup, for every command that warms its model up at load.</summary>
    public static Option<bool> NoWarmUpOption() =>
        new("--no-warmup") { Description = "Skip the warm-up pass at load (a short prefill and decode step that compiles the kernels before the first prompt)" };

    public RunOptions() => Weights.AcceptOnlyFromAmong([Stored, .. WeightPrecisionNames.All]);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { MaxNewTokens, Greedy, Temperature, TopK, TopP, Seed, IgnoreEos, Threads, Weights, Device, Progress, NoWarmUp })
            command.Add(option);
    }

    /// <summary>Checks every option that needs no file; call before anything is read or printed.</summary>
    public SamplingOptions Check(ParseResult result)
    {
        if (result.GetValue(MaxNewTokens) is var n and < 0) throw new PldrException($"--max-new-tokens must be 0 or more, got {n}");
        CpuThreads.Use(result.GetValue(Threads));
        string device = result.GetValue(Device)!;
        if (device != PldrDevices.Cpu && PldrDevices.Find(device) is null)
            throw new PldrException($"--device {device}: " +
                (PldrDevices.WhyUnavailable(device) ?? $"not available in this build; the devices are: {string.Join(", ", PldrDevices.Names)}"));
        if (device != PldrDevices.Cpu && Precision(result) is not null)
            throw new PldrException($"--weights applies to the cpu device; --device {device} keeps float32 weights");
        var sampling = result.GetValue(Greedy)
            ? GreedyOnly(result)
            : new SamplingOptions(result.GetValue(Temperature), result.GetValue(TopK), result.GetValue(TopP), result.GetValue(Seed));
        // The command line keeps the authors' range (0, 1]; the engine also takes 0 (greedy) and above 1. The lower
        // bound, where logits ÷ T overflow, is the engine's own (SamplingOptions.Validate).
        if (!(sampling.Temperature > 0 && sampling.Temperature <= 1)) throw new PldrException($"--temperature must be in (0, 1], got {sampling.Temperature}");
        try { sampling.Validate(); }
        catch (PldrException e) { throw new PldrException("--" + e.Message, e); }
        return sampling;
    }

    /// <summary>Loads the checkpoint on the device that <see cref="Check"/> accepted (on the CPU with --progress).</summary>
    public IPldrModel Load(ParseResult result, PldrModelInfo info, string directory, TextWriter stderr)
    {
        string device = result.GetValue(Device)!;
        if (device != PldrDevices.Cpu) return PldrDevices.Find(device)!(info, directory);
        using var progress = ProgressOption.Start(result, Progress, stderr, "loading " + Path.Combine(directory, "model.safetensors"));
        return info.Load(directory, Precision(result), progress);
    }

    /// <summary>The warm-up pass (<see cref="ModelWarmUp"/>) unless --no-warmup; returns how long it took.</summary>
    public TimeSpan WarmUp(ParseResult result, IPldrModel model)
    {
        if (result.GetValue(NoWarmUp)) return TimeSpan.Zero;
        long start = Stopwatch.GetTimestamp();
        model.WarmUp();
        return Stopwatch.GetElapsedTime(start);
    }

    WeightPrecision? Precision(ParseResult result) => result.GetValue(Weights) is { } name && name != Stored ? WeightPrecisionNames.Parse(name) : null;

    SamplingOptions GreedyOnly(ParseResult result)
    {
        foreach (var option in new Option[] { Temperature, TopK, TopP })
            if (result.GetResult(option) is { Implicit: false })
                throw new PldrException($"--greedy already fixes the choice (top-k 1); drop {option.Name}");
        return SamplingOptions.Greedy;
    }
}
