using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Text;

namespace PldrGen.Server;

/// <summary>
/// <see cref="ITextGenerator"/> over what the runtime has today: one model instance per slot (each with its own
/// weights, caches and G-cache slot), a bounded wait queue in front, and the runtime's sampler (temperature ≤ 1,
/// top-k, top-p). A sequence runs on the thread pool and streams through a channel, so a slow reader never holds a
/// slot; cancelling stops it before its next step.
/// </summary>
sealed class ModelPoolGenerator : ITextGenerator
{
    const int MaxGroups = 256;
    readonly IPldrModel[] _models;
    readonly ConcurrentBag<IPldrModel> _free;
    readonly SemaphoreSlim _slotsFree;
    readonly ConcurrentDictionary<string, GCache> _groups = new(StringComparer.Ordinal);
    int _queued;

    public ModelPoolGenerator(PldrModelInfo model, string directory, PldrTokenizer tokenizer, int slots, int queueLimit)
    {
        if (slots < 1) throw new PldrException($"--slots must be ≥ 1, got {slots}");
        Model = model;
        Tokenizer = tokenizer;
        QueueLimit = queueLimit;
        _models = new IPldrModel[slots];
        for (int i = 0; i < slots; i++) _models[i] = model.Load(directory);
        _free = [.. _models];
        _slotsFree = new SemaphoreSlim(slots, slots);
    }

    public PldrModelInfo Model { get; }
    public PldrTokenizer Tokenizer { get; }
    public int Slots => _models.Length;
    public int SlotsBusy => Slots - _slotsFree.CurrentCount;
    public int Queued => Volatile.Read(ref _queued);
    public int QueueLimit { get; }

    public async IAsyncEnumerable<SequenceToken> GenerateAsync(SequenceRequest request, [EnumeratorCancellation] CancellationToken cancel)
    {
        var sampler = new Sampler(RuntimeSampling(request.Sampling), Model.Config.VocabSize);
        var model = await AcquireAsync(cancel);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var tokens = Channel.CreateUnbounded<SequenceToken>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _ = Task.Run(() =>
        {
            try
            {
                Run(model, request, sampler, tokens.Writer, stop.Token);
                tokens.Writer.Complete();
            }
            catch (Exception e) { tokens.Writer.Complete(e); }
            finally { Release(model); }
        }, CancellationToken.None);
        try
        {
            await foreach (var token in tokens.Reader.ReadAllAsync(cancel)) yield return token;
        }
        finally { stop.Cancel(); } // a reader that leaves early ends the sequence too
    }

    public async Task<TokenScore[]> ScoreAsync(int[] tokens, int top, GSource g, CancellationToken cancel)
    {
        CheckPrompt(tokens);
        var model = await AcquireAsync(cancel);
        try
        {
            return await Task.Run(() =>
            {
                UseG(model, g);
                int vocab = Model.Config.VocabSize;
                var logits = new float[tokens.Length * vocab];
                model.Prefill(tokens, logits);
                var scores = new TokenScore[tokens.Length - 1];
                for (int t = 1; t < tokens.Length; t++)
                    scores[t - 1] = LogProbs.Score(logits.AsSpan((t - 1) * vocab, vocab), tokens[t], top);
                return scores;
            }, cancel);
        }
        finally { Release(model); }
    }

    public async Task<GCache> PrefillGCacheAsync(int[] prompt, CancellationToken cancel)
    {
        CheckPrompt(prompt);
        var model = await AcquireAsync(cancel);
        try
        {
            return await Task.Run(() =>
            {
                model.ClearInjectedGCache();
                model.Prefill(prompt);
                return model.CaptureGCache();
            }, cancel);
        }
        finally { Release(model); }
    }

    void Run(IPldrModel model, SequenceRequest request, Sampler sampler, ChannelWriter<SequenceToken> output, CancellationToken cancel)
    {
        CheckPrompt(request.Prompt);
        bool firstOfGroup = UseG(model, request.G);
        var logits = model.Prefill(request.Prompt);
        if (firstOfGroup && request.G is GSource.FirstOfGroup group && _groups.Count < MaxGroups)
            _groups.TryAdd(group.Group, model.CaptureGCache());

        var decoder = Tokenizer.CreateStreamingDecoder();
        foreach (int id in request.Prompt) decoder.Append(id); // the prompt owns the dummy-prefix space
        var stops = new StopStrings(request.Stop);
        int contextSize = Model.Config.MaxPositionEmbeddings;
        for (int generated = 1; ; generated++)
        {
            cancel.ThrowIfCancellationRequested();
            int id = sampler.Next(logits);
            var score = request.TopLogprobs is { } top ? LogProbs.Score(logits, id, top) : null;
            string text = stops.Append(decoder.Append(id));
            FinishReason? finish =
                id == Model.EosToken && !request.IgnoreEos || stops.Stopped ? FinishReason.Stop
                : generated == request.MaxTokens || model.Position >= contextSize ? FinishReason.Length
                : null;
            if (finish is not null && !stops.Stopped) text += stops.Append(decoder.Flush()) + stops.Flush();
            output.TryWrite(new SequenceToken(id, text, score, finish));
            if (finish is not null) return;
            logits = model.Decode(id);
        }
    }

    /// <summary>Points the model at the request's G; true when it must compute G itself as a group's first prompt.</summary>
    bool UseG(IPldrModel model, GSource g)
    {
        model.Reset();
        switch (g)
        {
            case GSource.Cached cached:
                model.InjectGCache(cached.Cache);
                return false;
            case GSource.FirstOfGroup group when _groups.TryGetValue(group.Group, out var shared):
                model.InjectGCache(shared);
                return false;
            default:
                model.ClearInjectedGCache();
                return g is GSource.FirstOfGroup;
        }
    }

    void CheckPrompt(int[] prompt)
    {
        int context = Model.Config.MaxPositionEmbeddings, vocab = Model.Config.VocabSize;
        if (prompt.Length == 0) throw new PldrException("prompt: no tokens");
        if (prompt.Length > context) throw new PldrException($"prompt: {prompt.Length} tokens, more than the model's context of {context} positions");
        foreach (int id in prompt)
            if ((uint)id >= (uint)vocab) throw new PldrException($"prompt: token id {id} is outside the vocabulary (0..{vocab - 1})");
    }

    /// <summary>The runtime sampler's options; what it cannot do yet is refused by name.</summary>
    static SamplingOptions RuntimeSampling(Sampling s)
    {
        if (s.MinP != 0) throw new PldrException("min_p: not supported by this server's generator yet (use 0)");
        if (s.RepetitionPenalty != 1) throw new PldrException("repetition_penalty: not supported by this server's generator yet (use 1)");
        if (s.PresencePenalty != 0) throw new PldrException("presence_penalty: not supported by this server's generator yet (use 0)");
        if (s.FrequencyPenalty != 0) throw new PldrException("frequency_penalty: not supported by this server's generator yet (use 0)");
        if (s.Temperature == 0 || s.TopK == 1) return SamplingOptions.Greedy;
        if (s.Temperature > 1) throw new PldrException($"temperature: must be in [0, 1] with this server's generator, got {s.Temperature}");
        var options = new SamplingOptions(s.Temperature, s.TopK, s.TopP, s.Seed ?? Random.Shared.Next());
        options.Validate();
        return options;
    }

    async Task<IPldrModel> AcquireAsync(CancellationToken cancel)
    {
        if (!_slotsFree.Wait(0))
        {
            if (Interlocked.Increment(ref _queued) > QueueLimit)
            {
                Interlocked.Decrement(ref _queued);
                throw new ServerBusyException($"all {Slots} slots are busy and {QueueLimit} requests are waiting; retry later");
            }
            try { await _slotsFree.WaitAsync(cancel); }
            finally { Interlocked.Decrement(ref _queued); }
        }
        _free.TryTake(out var model);
        return model!;
    }

    void Release(IPldrModel model)
    {
        _free.Add(model);
        _slotsFree.Release();
    }

    public void Dispose()
    {
        foreach (var model in _models) (model as IDisposable)?.Dispose();
        _slotsFree.Dispose();
    }
}
