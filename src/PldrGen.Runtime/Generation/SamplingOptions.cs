namespace PldrGen.Runtime.Generation;

/// <summary>
/// How the next token is drawn. The authors' options keep their meaning and order (temperature → top-p → top-k →
/// draw, see <see cref="Sampler"/>); the rest extend them: temperature 0 is greedy and above 1 flattens, min-p keeps
/// tokens at least <see cref="MinP"/> times as likely as the likeliest, and the penalties follow Hugging Face
/// (repetition, over prompt and output) and OpenAI (presence and frequency, over the output).
/// </summary>
/// <param name="Temperature">≥ 0: logits are divided by it; 0 always takes the likeliest token.</param>
/// <param name="TopK">0 (off) or the number of likeliest tokens kept; 1 is greedy.</param>
/// <param name="TopP">In (0, 1]: the likeliest tokens whose cumulative probability stays ≤ P are kept (at least one).</param>
/// <param name="Seed">The same seed gives the same draws; null draws a random seed, which <see cref="Sampler.Seed"/> reports.</param>
public sealed record SamplingOptions(float Temperature = 1f, int TopK = 0, float TopP = 1f, int? Seed = null)
{
    /// <summary>In [0, 1): tokens less likely than MinP × the likeliest token's probability are dropped (0 = off).</summary>
    public float MinP { get; init; }

    /// <summary>&gt; 0, 1 = off: a token already in the prompt or output has its logit divided by it when positive, multiplied when negative.</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Subtracted once from the logit of every token the output already holds (0 = off; negative encourages).</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Subtracted from a token's logit once per time the output already holds it (0 = off).</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Greedy decoding is top-k 1, as in the authors' code.</summary>
    public static SamplingOptions Greedy { get; } = new(TopK: 1);

    /// <summary>True when the draw is always the likeliest token (top-k 1 or temperature 0).</summary>
    public bool IsGreedy => TopK == 1 || Temperature == 0;

    internal bool HasPenalties => RepetitionPenalty != 1 || PresencePenalty != 0 || FrequencyPenalty != 0;

    /// <summary>Far below this, logits ÷ T overflow to infinity and every draw becomes token 0.</summary>
    public const float MinTemperature = 1e-4f;

    /// <exception cref="PldrException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (!(Temperature >= 0 && float.IsFinite(Temperature))) throw new PldrException($"temperature must be ≥ 0 (0 = greedy), got {Temperature}");
        if (Temperature > 0 && Temperature < MinTemperature)
            throw new PldrException($"temperature must be at least {MinTemperature} (logits ÷ T overflow below it; greedy decoding is the limit T → 0), got {Temperature}");
        if (TopK < 0) throw new PldrException($"top-k must be 0 (off) or positive, got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new PldrException($"top-p must be in (0, 1], got {TopP}");
        if (!(MinP >= 0 && MinP < 1)) throw new PldrException($"min-p must be in [0, 1), got {MinP}");
        if (!(RepetitionPenalty > 0 && float.IsFinite(RepetitionPenalty))) throw new PldrException($"repetition penalty must be > 0 (1 = off), got {RepetitionPenalty}");
        if (!float.IsFinite(PresencePenalty)) throw new PldrException($"presence penalty must be a finite number, got {PresencePenalty}");
        if (!float.IsFinite(FrequencyPenalty)) throw new PldrException($"frequency penalty must be a finite number, got {FrequencyPenalty}");
    }
}
