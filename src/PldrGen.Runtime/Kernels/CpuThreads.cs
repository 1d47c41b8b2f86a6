namespace PldrGen.Runtime.Kernels;

/// <summary>How many threads the CPU kernels run on: one per core unless set before the first model runs (--threads).</summary>
public static class CpuThreads
{
    /// <summary>Sets the thread count; refuses a count below 1, and a change once the workers have started.</summary>
    public static void Use(int threads) => CpuWorkers.UseThreads(threads);

    public static int Count => CpuWorkers.SharedThreads;
}
