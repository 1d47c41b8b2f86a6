namespace PldrGen.Runtime.Kernels;

/// <summary>
/// Persistent worker threads that split a loop [0, count) into one contiguous chunk per core. The caller runs the
/// first chunk itself and waits for the rest. Nothing is allocated per call (the body is a function pointer with a
/// pointer to the caller's state), so a decode step stays allocation-free; one call costs a few microseconds.
/// </summary>
sealed unsafe class CpuWorkers
{
    /// <summary>One worker per core, shared by every model in the process.</summary>
    public static CpuWorkers Shared { get; } = new(Environment.ProcessorCount);

    readonly int _threads;
    readonly Thread[] _workers;
    readonly SemaphoreSlim[] _start;
    readonly CountdownEvent _done;
    readonly object _gate = new();
    delegate*<void*, int, int, void> _body;
    void* _state;
    int _count, _grain;

    public CpuWorkers(int threads)
    {
        _threads = Math.Max(1, threads);
        _workers = new Thread[_threads - 1];
        _start = new SemaphoreSlim[_threads - 1];
        _done = new CountdownEvent(1);
        for (int i = 0; i < _workers.Length; i++)
        {
            int index = i + 1;
            _start[i] = new SemaphoreSlim(0);
            _workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"pldr-cpu-{index}" };
            _workers[i].Start();
        }
    }

    /// <summary>
    /// Runs body(state, start, end) over [0, count) split across the threads, in chunks that are multiples of
    /// <paramref name="grain"/> (so register tiles never straddle two threads). Returns when every chunk is done.
    /// </summary>
    public void For(int count, int grain, delegate*<void*, int, int, void> body, void* state)
    {
        int chunks = Math.Min(_threads, (count + grain - 1) / grain);
        if (chunks <= 1)
        {
            body(state, 0, count);
            return;
        }
        lock (_gate) // one parallel loop at a time: two models on two threads share the workers
        {
            _body = body; _state = state; _count = count; _grain = grain;
            _done.Reset(chunks - 1);
            for (int i = 1; i < chunks; i++) _start[i - 1].Release();
            RunChunk(0, chunks);
            _done.Wait();
        }
    }

    void RunChunk(int index, int chunks)
    {
        int blocks = (_count + _grain - 1) / _grain;
        int start = (int)((long)blocks * index / chunks) * _grain;
        int end = Math.Min(_count, (int)((long)blocks * (index + 1) / chunks) * _grain);
        if (start < end) _body(_state, start, end);
    }

    void WorkerLoop(int index)
    {
        while (true)
        {
            _start[index - 1].Wait();
            int chunks = Math.Min(_threads, (_count + _grain - 1) / _grain);
            try { RunChunk(index, chunks); }
            finally { _done.Signal(); }
        }
    }
}
