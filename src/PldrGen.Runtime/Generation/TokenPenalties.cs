namespace PldrGen.Runtime.Generation;

/// <summary>
/// The repetition penalty over every token a sequence has seen (prompt and output, as Hugging Face's), and the
/// presence and frequency penalties over its output (as OpenAI's). A step touches only the distinct tokens seen.
/// </summary>
sealed class TokenPenalties
{
    readonly float _repetition, _presence, _frequency;
    readonly int[] _outputCount;   // [V] times each token was generated
    readonly bool[] _seen;         // [V] in the prompt or the output
    readonly List<int> _seenTokens = [];

    public TokenPenalties(SamplingOptions options, int vocabSize, ReadOnlySpan<int> prompt)
    {
        (_repetition, _presence, _frequency) = (options.RepetitionPenalty, options.PresencePenalty, options.FrequencyPenalty);
        _outputCount = new int[vocabSize];
        _seen = new bool[vocabSize];
        foreach (int token in prompt) See(token);
    }

    public void Add(int token)
    {
        See(token);
        _outputCount[token]++;
    }

    public void Apply(Span<float> logits)
    {
        foreach (int token in _seenTokens)
        {
            float x = logits[token];
            if (_repetition != 1) x = x > 0 ? x / _repetition : x * _repetition;
            int count = _outputCount[token];
            if (count > 0) x -= _presence + count * _frequency;
            logits[token] = x;
        }
    }

    void See(int token)
    {
        if ((uint)token >= (uint)_seen.Length) throw new PldrException($"token id {token} is outside the vocabulary (0..{_seen.Length - 1})");
        if (_seen[token]) return;
        _seen[token] = true;
        _seenTokens.Add(token);
    }
}
