namespace PldrGen.Runtime.Generation;

/// <summary>
/// A token of a scored text (<see cref="Engine.PldrEngine.ScoreAsync"/>): its log-probability after the tokens before
/// it, under the model's own distribution, and the likeliest alternatives at that position, likeliest first.
/// </summary>
public readonly record struct TokenScore(int Id, float LogProb, IReadOnlyList<TokenLogProb> Top);
