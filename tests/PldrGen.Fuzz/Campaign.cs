using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PldrGen.Fuzz;

/// <summary>Runs one target over its seeds, then over numbered mutations, and prints one summary line.</summary>
static class Campaign
{
    static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(2), Hang = TimeSpan.FromSeconds(60);
    const long MaxAllocated = 200L << 20;

    public static int Run(Target target, Options options)
    {
        using var scratch = new ScratchFolder();
        string path = scratch.File(target.FileName);
        var mutator = new Mutator(target.Seeds, target.Tokens);
        var counts = new int[3];
        double maxMs = 0, maxMb = 0;
        var clock = Stopwatch.StartNew();

        // The seeds first, unmeasured: they warm up the JIT, and each must be accepted or the harness is wrong.
        foreach (var seed in target.Seeds)
        {
            File.WriteAllBytes(path, seed);
            var result = target.Run(path);
            if (result.Outcome != Outcome.Accepted) throw new InvalidOperationException($"{target.Name}: a seed is not accepted ({result.Outcome}: {result.Problem})");
            result.Check?.Invoke();
        }

        for (int i = 0; i < options.Inputs; i++)
        {
            byte[] input = mutator.Mutate(new Random(unchecked(options.Seed * 1_000_003 + i))); // not HashCode: it differs per process
            File.WriteAllBytes(path, input);
            var (result, elapsed, allocated) = Measure(target, path);
            string? problem = result.Problem
                ?? (elapsed > MaxTime ? $"took {elapsed.TotalSeconds:F1} s of CPU time"
                : allocated > MaxAllocated ? $"allocated {allocated >> 20} MB"
                : result.Check?.Invoke());
            var outcome = problem is null ? result.Outcome : Outcome.Bad;
            counts[(int)outcome]++;
            maxMs = Math.Max(maxMs, elapsed.TotalMilliseconds);
            maxMb = Math.Max(maxMb, allocated / 1048576.0);
            if (outcome == Outcome.Bad) Report(target, options, i, input, problem!);
            if ((i + 1) % 1_000 == 0 && options.Inputs > 10_000)
                Console.WriteLine($"  {target.Name} seed {options.Seed}: {i + 1} inputs, {counts[0]} rejected, {counts[1]} accepted, {counts[2]} bad, {clock.Elapsed.TotalSeconds:F0} s");
        }
        Console.WriteLine($"{target.Name,-16} {options.Inputs,8} {counts[0],9} {counts[1],9} {counts[2],5} {maxMs,10:F0} {maxMb,7:F1} {clock.Elapsed.TotalSeconds,8:F0}");
        return counts[(int)Outcome.Bad];
    }

    /// <summary>
    /// Runs one input on a worker, so that a hang is reported instead of stopping the campaign silently. Time is the
    /// worker thread's CPU time: on a shared machine wall-clock time measures the neighbours.
    /// </summary>
    static (Result, TimeSpan, long) Measure(Target target, string path)
    {
        var run = Task.Run(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var start = ThreadCpuTime();
            var result = target.Run(path);
            return (result, ThreadCpuTime() - start, GC.GetAllocatedBytesForCurrentThread() - before);
        });
        if (!run.Wait(Hang))
        {
            Console.Error.WriteLine($"{target.Name}: an input ran for more than {Hang.TotalSeconds} s; it is {path}");
            Environment.Exit(1);
        }
        return run.Result;
    }

    static TimeSpan ThreadCpuTime()
    {
        const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID (Linux)
        if (clock_gettime(ClockThreadCpuTime, out var t) != 0) throw new InvalidOperationException("clock_gettime failed");
        return TimeSpan.FromTicks(t.Seconds * TimeSpan.TicksPerSecond + t.Nanoseconds / 100);
    }

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds, Nanoseconds;
    }

    [DllImport("libc", SetLastError = true)]
    static extern int clock_gettime(int clock, out TimeSpec time);

    static void Report(Target target, Options options, int number, byte[] input, string problem)
    {
        Directory.CreateDirectory(options.Findings);
        string file = Path.Combine(options.Findings, $"{target.Name}-seed{options.Seed}-{number}-{target.FileName}");
        File.WriteAllBytes(file, input);
        Console.Error.WriteLine($"BAD {target.Name} #{number}: {problem} ({file})");
    }
}
