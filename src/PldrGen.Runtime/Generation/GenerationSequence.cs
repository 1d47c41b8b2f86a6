using System.Diagnostics;
using System.Text;
using PldrGen.Runtime.Text;

namespace PldrGen.Runtime.Generation;

/// <summary>
/// One request's token-by-token state, whatever computes its logits: the sampler, the UTF-8-safe decoder, stop
/// strings, log-probabilities, timings, and the decision to stop. The engine keeps one per busy slot.
/// </summary>
sealed class GenerationSequence
{
    readonly GenerateOptions _options;
    readonly Sampler _sampler;
    readonly StreamingDecoder? _decoder;
    readonly StopStrings _stops;
    readonly int _contextSize, _endToken;
    readonly StringBuilder _text = new();
    readonly List<GeneratedToken> _tokens = [];
    readonly long _created = Stopwatch.GetTimestamp();
    long _prefillStart, _prefillTicks, _firstToken;

    /// <summary>Checks the request; without a <paramref name="tokenizer"/> every text piece is empty.</summary>
    public GenerationSequence(int[] prompt, GenerateOptions options, PldrTokenizer? tokenizer, int vocabSize, int contextSize, int endToken)
    {
        options.Validate();
        CheckPrompt(prompt, vocabSize, contextSize);
        Prompt = prompt;
        _options = options;
        _sampler = new Sampler(options.Sampling, vocabSize, prompt);
        _decoder = tokenizer?.CreateStreamingDecoder();
        if (_decoder is not null) foreach (int id in prompt) _decoder.Append(id); // the dummy-prefix space belongs to the prompt
        _stops = new StopStrings(options.Stop);
        _contextSize = contextSize;
        _endToken = endToken;
    }

    /// <exception cref="PldrException">The prompt is empty, longer than the context or holds a token outside the vocabulary.</exception>
    public static void CheckPrompt(int[] prompt, int vocabSize, int contextSize)
    {
        if (prompt.Length == 0) throw new PldrException("the prompt has no tokens");
        if (prompt.Length > contextSize) throw new PldrException($"the prompt has {prompt.Length} tokens, more than the model's context of {contextSize} positions");
        foreach (int id in prompt)
            if ((uint)id >= (uint)vocabSize) throw new PldrException($"token id {id} is outside the vocabulary (0..{vocabSize - 1})");
    }

    public int[] Prompt { get; }
    public GenerateOptions Options => _options;
    public GenerateFinish? Finish { get; private set; }

    /// <summary>A stage of this prompt's prefill ran from <paramref name="start"/> until now (a chunked prefill has
    /// several, with other sequences' decode steps between them, which its prefill time does not count).</summary>
    public void PrefillWorked(long start)
    {
        if (_prefillStart == 0) _prefillStart = start;
        _prefillTicks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>Draws the token that follows <paramref name="logits"/>; <paramref name="cached"/> positions hold tokens.</summary>
    public GeneratedToken Next(ReadOnlySpan<float> logits, int cached)
    {
        if (Finish is not null) throw new InvalidOperationException("the sequence has finished");
        if (_tokens.Count == 0) _firstToken = Stopwatch.GetTimestamp();
        int id = _sampler.Next(logits);
        string piece = _stops.Append(_decoder?.Append(id) ?? "");
        StopReason? reason =
            id == _endToken && !_options.IgnoreEos ? StopReason.EndToken
            : _stops.Stopped ? StopReason.StopString
            : _tokens.Count + 1 == _options.MaxTokens ? StopReason.Length
            : cached >= _contextSize ? StopReason.ContextFull
            : null;
        if (reason is not null && !_stops.Stopped) piece += _stops.Append(_decoder?.Flush() ?? "") + _stops.Flush();
        var token = new GeneratedToken(id, piece);
        if (_options.LogProbs)
        {
            float logSumExp = TokenLogProbs.LogSumExp(logits);
            token = token with
            {
                LogProb = logits[id] - logSumExp,
                TopLogProbs = _options.TopLogProbs > 0 ? TokenLogProbs.Top(logits, logSumExp, _options.TopLogProbs) : null,
            };
        }
        if (_options.ReturnLogits) token = token with { Logits = logits.ToArray() };
        if (reason is { } r) token = token with { Finish = Finished(r) };
        _text.Append(piece);
        _tokens.Add(token);
        return token;
    }

    /// <summary>Ends the sequence without another token (the caller cancelled).</summary>
    public GenerateFinish Cancel() => Finish ??= Finished(StopReason.Cancelled);

    public GenerateResult Result() => new(_text.ToString(), _tokens, Finish ?? throw new InvalidOperationException("the sequence is still running"));

    GenerateFinish Finished(StopReason reason)
    {
        long now = Stopwatch.GetTimestamp();
        long prefillStart = _prefillStart == 0 ? now : _prefillStart;
        var timings = new GenerateTimings(Prompt.Length, _tokens.Count + (reason == StopReason.Cancelled ? 0 : 1),
            Stopwatch.GetElapsedTime(_created, prefillStart), Stopwatch.GetElapsedTime(0, _prefillTicks),
            _firstToken == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_created, _firstToken),
            _firstToken == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_firstToken, now));
        return Finish = new GenerateFinish(reason, _sampler.Seed, timings);
    }
}
