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
/// weights, caches and G-cache slot), a bounded wait queue in front, and the engine's per-request
/// <see cref="GenerationSequence"/> (sampling, stop strings, logprobs). A sequence runs on the thread pool and streams
/// through a channel, so a slow reader never holds a slot; cancelling stops it before its next step.
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
        CheckPrompt(request.Prompt);
        var sequence = new GenerationSequence(request.Prompt, Options(request), Tokenizer, Model.Config.VocabSize, Model.Config.MaxPositionEmbeddings, Model.EosToken);
        var model = await AcquireAsync(cancel);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var tokens = Channel.CreateUnbounded<SequenceToken>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _ = Task.Run(() =>
        {
            Exception? failure = null;
            try { Run(model, sequence, request.G, tokens.Writer, stop.Token); }
            catch (Exception e) { failure = e; }
            Release(model); // before the reader can see the end, so a finished response never finds its slot still busy
            tokens.Writer.Complete(failure);
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
                {
                    var row = logits.AsSpan((t - 1) * vocab, vocab);
                    float logSumExp = TokenLogProbs.LogSumExp(row);
                    scores[t - 1] = new TokenScore(tokens[t], row[tokens[t]] - logSumExp, top > 0 ? TokenLogProbs.Top(row, logSumExp, top) : []);
                }
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

    void Run(IPldrModel model, GenerationSequence sequence, GSource g, ChannelWriter<SequenceToken> output, CancellationToken cancel)
    {
        bool firstOfGroup = UseG(model, g);
        var logits = model.Prefill(sequence.Prompt);
        if (firstOfGroup && g is GSource.FirstOfGroup group && _groups.Count < MaxGroups)
            _groups.TryAdd(group.Group, model.CaptureGCache());
        for (; ; )
        {
            cancel.ThrowIfCancellationRequested();
            var token = sequence.Next(logits, model.Position);
            output.TryWrite(new SequenceToken(token.Id, token.Text,
                token.LogProb is { } logProb ? new TokenScore(token.Id, logProb, token.TopLogProbs ?? []) : null,
                token.Finish?.Reason switch
                {
                    null => null,
                    StopReason.EndToken or StopReason.StopString => FinishReason.Stop,
                    _ => FinishReason.Length,
                }));
            if (token.Finish is not null) return;
            logits = model.Decode(token.Id);
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

    /// <summary>The engine's options for one sequence; their Validate names a field that is out of range.</summary>
    static GenerateOptions Options(SequenceRequest request) => new()
    {
        MaxTokens = request.MaxTokens,
        Sampling = new SamplingOptions(request.Sampling.Temperature, request.Sampling.TopK, request.Sampling.TopP, request.Sampling.Seed)
        {
            MinP = request.Sampling.MinP,
            RepetitionPenalty = request.Sampling.RepetitionPenalty,
            PresencePenalty = request.Sampling.PresencePenalty,
            FrequencyPenalty = request.Sampling.FrequencyPenalty,
        },
        Stop = request.Stop,
        IgnoreEos = request.IgnoreEos,
        LogProbs = request.TopLogprobs is not null,
        TopLogProbs = request.TopLogprobs ?? 0,
    };

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
