namespace PldrGen.Runtime.Engine;

/// <summary>A prompt as text (encoded with the model's tokenizer, no BOS or EOS, as the authors do) or as token ids.</summary>
public readonly record struct Prompt
{
    Prompt(string? text, int[]? tokens) => (Text, Tokens) = (text, tokens);

    public string? Text { get; }
    public int[]? Tokens { get; }

    public static implicit operator Prompt(string text) => new(text ?? throw new ArgumentNullException(nameof(text)), null);
    public static implicit operator Prompt(int[] tokens) => new(null, tokens ?? throw new ArgumentNullException(nameof(tokens)));
}
