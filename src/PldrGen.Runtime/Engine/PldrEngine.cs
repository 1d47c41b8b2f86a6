using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using PldrGen.Runtime.Kernels;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Text;

namespace PldrGen.Runtime.Engine;

/// <summary>
/// Serves many sequences on one compiled model. Requests wait in a bounded queue and take every free slot between
/// decode steps; each step advances every decoding slot by one token; a finished or cancelled sequence frees its slot
/// at once. PLDR's G depends on every prompt position, so a prompt cannot be split by position, but a layered (CPU)
/// model prefills it a layer at a time (<see cref="LayeredPldrModel{TSequence}"/>): each scheduler turn runs at most
/// <see cref="EngineOptions.PrefillBudget"/> prompt tokens × layers of the admitted prompts, oldest first, and then
/// one decode step, so running streams see a bounded step time. Each slot is a model with its own KV-cache, frozen
/// A, G-cache and prefill scratch; a batched model's slots share its weights and one step advances them all
/// (<see cref="BatchedSlots"/>), each row computed as a lone decode computes it, so a sequence's tokens and logits
/// are exactly those it gets alone. Thread-safe: any number of callers share one engine, and one scheduler thread
/// runs the model.
/// </summary>
public sealed partial class PldrEngine : IDisposable
{
    readonly Slot[] _slots;
    readonly Queue<Request> _waiting = new();
    readonly Dictionary<string, GCache> _groups = new(StringComparer.Ordinal);
    readonly object _lock = new(); // Monitor.Wait/Pulse wake the scheduler
    readonly Thread _scheduler;
    readonly BatchedSlots? _batch;     // batched models: one step for every busy slot
    readonly IPldrModel? _owner;       // the model the batched slots were made from (disposed with the engine)
    readonly float[]? _batchLogits;    // [slots, V]
    readonly RowDraws? _draws;         // batched models: the step's tokens, drawn across the workers
    readonly List<Slot> _stepping = [];
    readonly List<Slot> _prefilling = []; // admitted, first token not yet out; oldest first
    int _busy;
    bool _disposed;

    /// <summary>
    /// An engine over a loaded model, which it disposes with itself. A batched model (<see cref="IBatchedModel"/>: the
    /// CPU and ILGPU models) serves every slot from its one copy of the weights, and each decode step advances all
    /// busy slots at once; another model serves one slot.
    /// </summary>
    public PldrEngine(IPldrModel model, PldrTokenizer? tokenizer, EngineOptions options)
        : this(SlotsOver(model, options), tokenizer, options)
    {
        _owner = model;
    }

    /// <summary>An engine whose slots <paramref name="createSlot"/> makes, one call per slot; slots step one after the other.</summary>
    public PldrEngine(Func<IPldrModel> createSlot, PldrTokenizer? tokenizer, EngineOptions options)
        : this(SlotsFrom(createSlot, options), tokenizer, options)
    {
    }

    PldrEngine((IPldrModel[] Models, BatchedSlots? Batch) slots, PldrTokenizer? tokenizer, EngineOptions options)
    {
        Options = options;
        _slots = [.. slots.Models.Select((m, i) => new Slot(m, i))];
        Info = slots.Models[0].Info;
        Tokenizer = tokenizer;
        _batch = slots.Batch;
        if (_batch is not null) (_batchLogits, _draws) = (new float[_slots.Length * Info.Config.VocabSize], new RowDraws(_slots.Length));
        _scheduler = new Thread(Schedule) { IsBackground = true, Name = $"PldrEngine {Info.Name}" };
        _scheduler.Start();
    }

    static (IPldrModel[], BatchedSlots?) SlotsOver(IPldrModel model, EngineOptions options)
    {
        options.Validate();
        if (model is IBatchedModel batched)
        {
            var batch = batched.CreateSlots(options.Slots);
            return ([.. batch.Models], batch);
        }
        if (options.Slots != 1) throw new PldrException($"{model.Info.Name}: this model cannot share its weights across slots; give one slot, or a factory that loads one model per slot");
        return ([model], null);
    }

    static (IPldrModel[], BatchedSlots?) SlotsFrom(Func<IPldrModel> createSlot, EngineOptions options)
    {
        options.Validate();
        return ([.. Enumerable.Range(0, options.Slots).Select(_ => createSlot())], null);
    }

    /// <summary>
    /// An engine for a checkpoint folder of a compiled spec, its tokenizer.model included when present; every slot
    /// shares the one copy of the weights.
    /// </summary>
    public static PldrEngine Load(PldrModelInfo info, string directory, EngineOptions? options = null)
    {
        string tokenizer = Path.Combine(directory, "tokenizer.model");
        return new PldrEngine(info.Load(directory), File.Exists(tokenizer) ? PldrTokenizer.Load(tokenizer) : null, options ?? new EngineOptions());
    }

    public PldrModelInfo Info { get; }

    /// <summary>True when one decode step advances every busy slot, reading each weight matrix once (batched models).</summary>
    public bool BatchedDecode => _batch is not null;
    public PldrTokenizer? Tokenizer { get; }
    public EngineOptions Options { get; }

    /// <summary>Slots running a sequence now.</summary>
    public int SlotsBusy { get { lock (_lock) return _busy; } }

    /// <summary>Requests waiting for a slot now.</summary>
    public int Queued { get { lock (_lock) return _waiting.Count; } }

    /// <summary>Bytes of run state per slot: KV-cache, G-cache and scratch, as the generated run state allocates them.</summary>
    public static long StateBytesPerSlot(PldrConfig c)
    {
        long p = c.MaxPositionEmbeddings, d = c.HiddenSize, f = c.IntermediateSize, h = c.NumAttentionHeads, dk = c.HeadDim;
        long floats = 2L * c.NumHiddenLayers * p * d     // KV-cache
            + 3L * c.NumHiddenLayers * h * dk * dk       // G-cache: A, A_LM, G_LM
            + 5 * p * d + 2 * p * f                      // activations of a whole-prompt prefill
            + 3 * h * dk * dk + 2 * h * dk * c.ADff + h * p + h * dk + c.VocabSize; // metric learner, attention row, logits
        return 4 * (floats + p);
    }

    /// <summary>Streams the tokens generated for <paramref name="prompt"/> (text or token ids); the last one carries the finish.</summary>
    /// <exception cref="EngineQueueFullException">Every slot is busy and the queue is full.</exception>
    /// <exception cref="OperationCanceledException">The caller cancelled; the slot is freed at the next step.</exception>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(Prompt prompt, GenerateOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = Submit(prompt, options, cancellationToken);
        try
        {
            await foreach (var token in request.Output.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested(); // tokens already streamed but not yet read stop here too
                yield return token;
            }
        }
        finally
        {
            request.Cancel(); // a caller that stops reading early frees the slot too
        }
    }

    /// <summary>Generates the whole sequence; cancelling ends it with <see cref="StopReason.Cancelled"/> and what it had so far.</summary>
    /// <exception cref="EngineQueueFullException">Every slot is busy and the queue is full.</exception>
    public Task<GenerateResult> CompleteAsync(Prompt prompt, GenerateOptions? options = null, CancellationToken cancellationToken = default) =>
        Submit(prompt, options, cancellationToken).Result.Task;

    /// <summary>
    /// Runs one short request in every slot at once (a <see cref="ModelWarmUp.PrefillTokens"/>-token prompt, two greedy
    /// tokens) and waits for them, as llama-server warms up before it listens: the JIT compiles the prefill and the
    /// step of all slots here rather than inside the first users' requests. Call it before serving (each of its
    /// requests takes a slot). Nothing of it stays: the slots are free again, and a sequence's tokens never depend on
    /// what ran before it.
    /// </summary>
    public void WarmUp()
    {
        var config = Info.Config;
        int length = Math.Min(ModelWarmUp.PrefillTokens, config.MaxPositionEmbeddings - 2);
        if (length < 1) return; // no room for a prompt and two tokens
        var prompt = Enumerable.Range(0, length).Select(i => i % config.VocabSize).ToArray();
        var options = new GenerateOptions { MaxTokens = 2, IgnoreEos = true, Sampling = SamplingOptions.Greedy };
        Task.WaitAll([.. Enumerable.Range(0, Options.Slots).Select(_ => CompleteAsync(prompt, options))]);
    }

    /// <summary>Drops the G kept for a <see cref="GPolicy.FirstOfGroup"/> group; its next request computes it again.</summary>
    public void ForgetGroup(string group)
    {
        lock (_lock) _groups.Remove(group);
    }

    int[] Encode(Prompt prompt) => prompt.Tokens ??
        (Tokenizer ?? throw new PldrException($"{Info.Name}: the model folder has no tokenizer.model; give the prompt as token ids")).EncodePrompt(prompt.Text!);

    Request Submit(Prompt prompt, GenerateOptions? options, CancellationToken cancellationToken)
    {
        var config = Info.Config;
        var sequence = new GenerationSequence(Encode(prompt), options ?? new GenerateOptions(), Tokenizer, config.VocabSize, config.MaxPositionEmbeddings, Info.EosToken);
        var request = new Request(sequence, Wake);
        request.CancelWhen(cancellationToken);
        lock (_lock)
        {
            bool full = _waiting.Count >= Options.QueueCapacity + (_slots.Length - _busy);
            if (_disposed || full) request.Release();
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (full)
                throw new EngineQueueFullException($"the engine's queue is full: {_waiting.Count} requests wait for {_slots.Length} busy slots (EngineOptions.QueueCapacity {Options.QueueCapacity}); retry later");
            _waiting.Enqueue(request);
            Monitor.Pulse(_lock);
        }
        return request;
    }

    void Wake()
    {
        lock (_lock) Monitor.Pulse(_lock);
    }

    /// <summary>
    /// The scheduler: admit waiting requests into every free slot, run a budget of prefill work, then advance every
    /// decoding slot one token.
    /// </summary>
    void Schedule()
    {
        while (true)
        {
            lock (_lock)
            {
                while (!_disposed && _waiting.Count == 0 && _busy == 0) Monitor.Wait(_lock);
                if (_disposed) break;
                foreach (var free in _slots)
                {
                    if (_waiting.Count == 0) break;
                    if (free.Request is not null) continue;
                    free.Request = _waiting.Dequeue();
                    free.NextLayer = NotBegun;
                    _busy++;
                    _prefilling.Add(free);
                }
            }
            RunPrefills();
            if (_batch is not null) StepTogether();
            else
                foreach (var slot in _slots)
                    if (slot.Request is not null && slot.Prefilled) Step(slot);
        }
        FailAll(new ObjectDisposedException(nameof(PldrEngine)));
    }

    /// <summary>
    /// Prefill stages of the admitted prompts, oldest first, up to <see cref="EngineOptions.PrefillBudget"/> tokens ×
    /// layers (always at least one stage). While no stream decodes nobody waits on the budget, so prefill goes on
    /// until a prompt has its first token.
    /// </summary>
    void RunPrefills()
    {
        foreach (var slot in _prefilling)
            if (slot.Request!.Cancelled)
            {
                slot.Request.Sequence.Cancel();
                Finish(slot);
            }
        _prefilling.RemoveAll(slot => slot.Request is null);
        bool decoding = _busy > _prefilling.Count;
        long spent = 0;
        for (int i = 0; i < _prefilling.Count;)
        {
            if (decoding && spent >= Options.PrefillBudget) return;
            var slot = _prefilling[i];
            if (WaitsForGroup(slot)) { i++; continue; }
            spent += PrefillStage(slot);
            if (slot.NextLayer != Done) continue;
            _prefilling.RemoveAt(i);
            decoding = true;
        }
    }

    /// <summary>
    /// A <see cref="GPolicy.FirstOfGroup"/> prompt whose group's G another slot is still prefilling waits for it, so
    /// it uses that G as it would had the prompts come one after the other.
    /// </summary>
    bool WaitsForGroup(Slot slot) =>
        slot.NextLayer == NotBegun && slot.Request!.Sequence.Options.G is GPolicy.Group g && GroupG(g.Name) is null
        && _prefilling.Any(other => other != slot && other.Capture == g.Name);

    const int NotBegun = -1, Done = int.MaxValue; // Slot.NextLayer before and after a prefill's layers

    /// <summary>One stage of the slot's prefill (begin + first layer, a layer, or, for a model that is not layered,
    /// the whole prompt); returns its cost in prompt tokens × layers and sets NextLayer to Done when the first token is out.</summary>
    long PrefillStage(Slot slot)
    {
        var sequence = slot.Request!.Sequence;
        var layered = slot.Model as LayeredPldrModel<CpuSequence>;
        long length = sequence.Prompt.Length, whole = length * Info.Config.NumHiddenLayers;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            if (slot.NextLayer == NotBegun) slot.Capture = UseG(slot, sequence.Options.G);
            ReadOnlySpan<float> logits;
            if (layered is not null)
            {
                if (slot.NextLayer == NotBegun)
                {
                    layered.BeginPrefill(sequence.Prompt);
                    slot.NextLayer = 0;
                }
                layered.PrefillLayer(slot.NextLayer++);
                if (slot.NextLayer < Info.Config.NumHiddenLayers)
                {
                    sequence.PrefillWorked(start);
                    return length;
                }
                logits = layered.EndPrefill();
            }
            else logits = slot.Model.Prefill(sequence.Prompt);
            sequence.PrefillWorked(start);
            if (slot.Capture is { } group)
            {
                var g = slot.Model.CaptureGCache();
                lock (_lock) _groups.TryAdd(group, g);
            }
            slot.NextLayer = Done;
            Emit(slot, sequence.Next(logits, slot.Model.Position));
        }
        catch (Exception e)
        {
            slot.NextLayer = Done;
            Fail(slot, e);
        }
        return layered is not null ? length : whole;
    }

    void Step(Slot slot)
    {
        var sequence = slot.Request!.Sequence;
        if (slot.Request.Cancelled) { sequence.Cancel(); Finish(slot); return; }
        try
        {
            var logits = slot.Model.Decode(slot.Pending);
            Emit(slot, sequence.Next(logits, slot.Model.Position));
        }
        catch (Exception e) { Fail(slot, e); }
    }

    /// <summary>One batched decode step for every slot whose prompt is prefilled.</summary>
    void StepTogether()
    {
        _stepping.Clear();
        foreach (var slot in _slots)
        {
            if (slot.Request is null || !slot.Prefilled) continue;
            if (slot.Request.Cancelled)
            {
                slot.Request.Sequence.Cancel();
                Finish(slot);
                continue;
            }
            _stepping.Add(slot);
        }
        if (_stepping.Count == 0) return;
        Span<int> indices = stackalloc int[_stepping.Count];
        Span<int> tokens = stackalloc int[_stepping.Count];
        for (int b = 0; b < tokens.Length; b++) (indices[b], tokens[b]) = (_stepping[b].Index, _stepping[b].Pending);
        int vocab = Info.Config.VocabSize;
        try
        {
            _batch!.Step(indices, tokens, _batchLogits);
        }
        catch (Exception e)
        {
            foreach (var slot in _stepping) Fail(slot, e);
            return;
        }
        _draws!.Run(_stepping, _batchLogits!, vocab);
        for (int b = 0; b < _stepping.Count; b++)
        {
            var slot = _stepping[b];
            if (_draws.Errors[b] is { } error)
            {
                Fail(slot, error);
                continue;
            }
            try { Emit(slot, _draws.Tokens[b]!); }
            catch (Exception e) { Fail(slot, e); }
        }
    }

    /// <summary>
    /// The next token of every row of a batched step, drawn across the CPU workers: a top-p draw is about 0.25 ms on
    /// 32,000 logits, so sixteen rows drawn one after another would add 4 ms to each step. Each row's sampler, text
    /// decoder and stop strings are its own sequence's, so the draws do not depend on their order; emitting stays in
    /// row order on the scheduler thread.
    /// </summary>
    sealed unsafe class RowDraws : IDisposable
    {
        public readonly GeneratedToken?[] Tokens;
        public readonly Exception?[] Errors;
        readonly GCHandle _self; // the workers' loop state: this object
        List<Slot> _rows = [];
        float[] _logits = [];
        int _vocab;

        public RowDraws(int slots)
        {
            (Tokens, Errors) = (new GeneratedToken?[slots], new Exception?[slots]);
            _self = GCHandle.Alloc(this);
        }

        public void Run(List<Slot> rows, float[] logits, int vocab)
        {
            (_rows, _logits, _vocab) = (rows, logits, vocab);
            Array.Clear(Tokens);
            Array.Clear(Errors);
            CpuWorkers.Shared.For(rows.Count, 1, &DrawRows, (void*)GCHandle.ToIntPtr(_self));
        }

        static void DrawRows(void* state, int start, int end)
        {
            var draws = (RowDraws)GCHandle.FromIntPtr((nint)state).Target!;
            for (int b = start; b < end; b++)
            {
                var slot = draws._rows[b];
                try { draws.Tokens[b] = slot.Request!.Sequence.Next(draws._logits.AsSpan(b * draws._vocab, draws._vocab), slot.Model.Position); }
                catch (Exception e) { draws.Errors[b] = e; } // never out of a worker thread
            }
        }

        public void Dispose() => _self.Free();
    }

    /// <summary>Sets the slot's G for its request; returns the group whose G this prefill will set, if any.</summary>
    string? UseG(Slot slot, GPolicy policy)
    {
        if (InjectedG(policy) is { } inject)
        {
            slot.Model.InjectGCache(inject);
            slot.Injected = true;
            return null;
        }
        if (slot.Injected) slot.Model.ClearInjectedGCache();
        slot.Injected = false;
        return (policy as GPolicy.Group)?.Name;
    }

    /// <summary>The G-cache a request under <paramref name="policy"/> uses instead of its own: a file's, or its group's once set.</summary>
    GCache? InjectedG(GPolicy policy) => policy switch
    {
        GPolicy.Cached c => c.Cache,
        GPolicy.Group g => GroupG(g.Name),
        _ => null,
    };

    GCache? GroupG(string group)
    {
        lock (_lock) return _groups.GetValueOrDefault(group);
    }

    void Emit(Slot slot, GeneratedToken token)
    {
        slot.Request!.Output.Writer.TryWrite(token);
        if (token.Finish is not null) Finish(slot);
        else slot.Pending = token.Id;
    }

    void Finish(Slot slot)
    {
        var request = Free(slot);
        request.Output.Writer.TryComplete();
        request.Result.TrySetResult(request.Sequence.Result());
    }

    void Fail(Slot slot, Exception error)
    {
        var request = Free(slot);
        request.Output.Writer.TryComplete(error);
        request.Result.TrySetException(error);
    }

    Request Free(Slot slot)
    {
        var request = slot.Request!;
        slot.Request = null;
        lock (_lock) _busy--;
        request.Release();
        return request;
    }

    void FailAll(Exception error)
    {
        foreach (var slot in _slots)
            if (slot.Request is not null) Fail(slot, error);
        lock (_lock)
            while (_waiting.TryDequeue(out var request))
            {
                request.Output.Writer.TryComplete(error);
                request.Result.TrySetException(error);
            }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.Pulse(_lock);
        }
        _scheduler.Join();
        _batch?.Dispose();
        _draws?.Dispose();
        foreach (var model in _slots.Select(s => s.Model).Append(_owner).Distinct()) (model as IDisposable)?.Dispose();
    }

    sealed class Slot(IPldrModel model, int index)
    {
        public readonly IPldrModel Model = model;
        public readonly int Index = index;  // its row in the batched slots
        public Request? Request;   // set and cleared by the scheduler thread only
        public int Pending;        // the last token drawn, decoded at the next step
        public bool Injected;      // the model holds an injected G-cache
        public int NextLayer;      // the prefill's next layer (NotBegun, 0..L−1, Done)
        public string? Capture;    // the group whose G this slot's prefill sets

        /// <summary>Its request's first token is out (so it is no longer among the prefilling slots): it decodes.</summary>
        public bool Prefilled => NextLayer == Done;
    }
}
