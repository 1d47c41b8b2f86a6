using System.Diagnostics;

namespace PldrGen.Runtime.Kernels;

/// <summary>
/// Persistent worker threads that share a loop [0, count): the caller and the workers take runs of it from one
/// counter until none is left, so a core that starts late or runs slow (another job on it) does less of the loop
/// instead of making the others wait. The caller works too, then waits for the runs still in flight. Nothing is allocated per call (the body is a function pointer with a
/// pointer to the caller's state), so a decode step stays allocation-free.
/// </summary>
/// <remarks>
/// The caller never blocks in a managed wait or a contended <c>lock</c>: on Linux a thread's first blocking wait
/// allocates its wait bookkeeping (~0.7–2 KB), and which call blocks first would depend on what else runs (two models
/// on two threads). The caller takes the loop with a compare-exchange, hands each worker a ticket, signals its event
/// on every call (so its one-time cost is paid on the thread's first parallel loop, whatever the load), and spins for
/// the rest. Workers spin briefly for the next ticket before sleeping on their event, so a decode step's many short
/// loops do not pay a futex wake each.
/// </remarks>
sealed unsafe class CpuWorkers
{
    static int _sharedThreads = Environment.ProcessorCount;
    static CpuWorkers? _shared;

    /// <summary>One worker per core (or <see cref="UseThreads"/>), shared by every model in the process.</summary>
    public static CpuWorkers Shared => LazyInitializer.EnsureInitialized(ref _shared, () => new CpuWorkers(_sharedThreads));

    /// <summary>Sets how many threads <see cref="Shared"/> starts; only before the first model runs.</summary>
    public static void UseThreads(int threads)
    {
        if (threads < 1) throw new PldrException($"--threads must be at least 1, got {threads}");
        if (_shared is not null && _shared._threads != threads) throw new InvalidOperationException("the shared CPU workers are already running");
        _sharedThreads = threads;
    }

    /// <summary>The threads <see cref="Shared"/> runs on (or will run on).</summary>
    public static int SharedThreads => _shared?._threads ?? _sharedThreads;

    // How long an idle worker polls for its next ticket before sleeping: longer than the gaps between a step's loops.
    static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

    const int Stride = 16; // ints per ticket slot: one cache line each, so workers polling do not share a line

    readonly int _threads;
    readonly AutoResetEvent[] _wake;
    readonly int[] _tickets;
    readonly int[] _sleeping; // 1 while a worker waits on its event: only then does a caller pay for Set
    int _busy, _pending, _ticket;
    delegate*<void*, int, int, void> _body;
    void* _state;
    int _count, _grain, _blocks, _run;
    readonly int[] _next = new int[2 * Stride]; // the next block to take, alone on its cache line

    public CpuWorkers(int threads)
    {
        _threads = Math.Max(1, threads);
        _wake = new AutoResetEvent[_threads - 1];
        _tickets = new int[_threads * Stride];
        _sleeping = new int[_threads * Stride];
        for (int i = 0; i < _wake.Length; i++)
        {
            int index = i + 1;
            _wake[i] = new AutoResetEvent(false);
            new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"pldr-cpu-{index}" }.Start();
        }
    }

    /// <summary>
    /// Runs body(state, start, end) over [0, count) split across the threads, in runs that are multiples of
    /// <paramref name="grain"/> (so register tiles never straddle two threads). Returns when every run is done. Which
    /// thread runs which items varies from call to call, so the items must not depend on each other; a body never starts
    /// another parallel loop (the workers run one at a time).
    /// </summary>
    public void For(int count, int grain, delegate*<void*, int, int, void> body, void* state)
    {
        int chunks = Math.Min(_threads, (count + grain - 1) / grain);
        if (chunks <= 1)
        {
            body(state, 0, count);
            return;
        }
        // One parallel loop at a time: two models on two threads share the workers.
        for (int spins = 0; Interlocked.CompareExchange(ref _busy, 1, 0) != 0; spins++) Pause(spins);
        _body = body; _state = state; _count = count; _grain = grain;
        _blocks = (count + grain - 1) / grain;
        _run = Math.Max(1, _blocks / (RunsPerThread * chunks));
        Volatile.Write(ref _next[Stride], 0);
        _pending = chunks - 1;
        int ticket = ++_ticket;
        for (int i = 1; i < chunks; i++)
        {
            Volatile.Write(ref _tickets[i * Stride], ticket);
            // A spinning worker sees the ticket by itself. Set costs a system call and, when it meets the worker on
            // the event's lock, a first blocking wait that allocates on this thread (inside a decode step).
            if (Interlocked.Exchange(ref _sleeping[i * Stride], 0) == 1) _wake[i - 1].Set();
        }
        RunShare();
        for (int spins = 0; Volatile.Read(ref _pending) != 0; spins++) Pause(spins);
        Volatile.Write(ref _busy, 0);
    }

    // Busy-wait without Thread.Sleep (which enters the wait subsystem); yield the core once the wait is long.
    static void Pause(int spins)
    {
        if (spins < 100) Thread.SpinWait(20);
        else Thread.Yield();
    }

    // Runs per thread when all go at one pace: enough that a late or slowed core hands most of its share to the
    // others, few enough that taking a run (one contended cache line) stays far below the run's own cost.
    const int RunsPerThread = 8;

    /// <summary>Takes runs of blocks from the shared counter until the loop is used up.</summary>
    void RunShare()
    {
        int run = _run;
        while (true)
        {
            int block = Interlocked.Add(ref _next[Stride], run) - run;
            if (block >= _blocks) return;
            _body(_state, block * _grain, (int)Math.Min(_count, (long)(block + run) * _grain));
        }
    }

    void WorkerLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            long idleSince = Stopwatch.GetTimestamp();
            int ticket;
            while ((ticket = Volatile.Read(ref _tickets[index * Stride])) == seen)
            {
                if (Stopwatch.GetTimestamp() - idleSince < SpinTicks)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                // Say so, then look once more before sleeping. Both sides fence (Interlocked), so either this look
                // sees a new ticket or its caller sees the flag and sets the event; a stale signal only loops once.
                Interlocked.Exchange(ref _sleeping[index * Stride], 1);
                if (Volatile.Read(ref _tickets[index * Stride]) != seen)
                {
                    Volatile.Write(ref _sleeping[index * Stride], 0);
                    continue;
                }
                _wake[index - 1].WaitOne();
            }
            seen = ticket;
            try { RunShare(); }
            finally { Interlocked.Decrement(ref _pending); }
        }
    }
}
