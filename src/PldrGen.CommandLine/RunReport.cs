using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PldrGen.Runtime;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Kernels;

namespace PldrGen.CommandLine;

/// <summary>The timings after a run: one line in words on stderr (as llama.cpp prints its own), or with --stats one JSON line.</summary>
static class RunReport
{
    public static void Write(TextWriter stderr, bool json, PldrModelInfo info, IPldrModel model, string device, bool injectedGCache,
        TimeSpan load, TimeSpan warmUp, int[] prompt, GenerationResult run)
    {
        double peakMiB = PeakMemoryMiB();
        if (json)
        {
            var stats = new RunStats(info.Name, device, CacheMode(model, injectedGCache), Ms(load), Ms(warmUp),
                prompt.Length, Ms(run.PrefillTime), PerSecond(prompt.Length, run.PrefillTime),
                run.DecodeSteps, Ms(run.DecodeTime), PerSecond(run.DecodeSteps, run.DecodeTime), run.Tokens.Count, peakMiB);
            stderr.WriteLine(JsonSerializer.Serialize(stats, CliJson.Default.RunStats));
            return;
        }
        string threads = device == PldrDevices.Cpu ? $", {CpuThreads.Count} thread{(CpuThreads.Count == 1 ? "" : "s")}" : "";
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pldr: load {Duration(load)}{(warmUp > TimeSpan.Zero ? $" + warm-up {Duration(warmUp)}" : "")} | prefill {prompt.Length} tokens in {Duration(run.PrefillTime)} ({PerSecond(prompt.Length, run.PrefillTime):N0} tok/s) | " +
            $"decode {run.DecodeSteps} tokens in {Duration(run.DecodeTime)} ({PerSecond(run.DecodeSteps, run.DecodeTime):N0} tok/s) | {info.Name} on {device}{threads} | peak memory {peakMiB:0} MiB"));
    }

    /// <summary>The process's peak resident memory so far (VmHWM on Linux), in MiB.</summary>
    static double PeakMemoryMiB()
    {
        using var self = Process.GetCurrentProcess();
        return Math.Round(self.PeakWorkingSet64 / (1024.0 * 1024), 1);
    }

    static string Duration(TimeSpan t) => t.TotalSeconds >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.00} s")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0.0} ms");

    static string CacheMode(IPldrModel model, bool injected) =>
        (model.UseKvCache ? "kv-cache" : "no-kv-cache") + "," + (injected ? "injected-g-cache" : model.UseGCache ? "g-cache" : "no-g-cache");

    static double Ms(TimeSpan t) => Math.Round(t.TotalMilliseconds, 3);
    static double PerSecond(int tokens, TimeSpan t) => t.TotalSeconds > 0 ? Math.Round(tokens / t.TotalSeconds, 2) : 0;
}
