using System.Text.Json;
using PldrGen.Runtime.Text;
using Xunit;

namespace PldrGen.Tests.Text;

/// <summary>One reference case of tests/fixtures/tokenizer/cases.json, written by the sentencepiece library.</summary>
public sealed record TokenizerCase(string Text, int[] Ids, string[] Pieces, string Decoded)
{
    public override string ToString() => JsonSerializer.Serialize(Text);
}

/// <summary>The reference cases and the two tokenizers, loaded once for all text tests.</summary>
public static class TokenizerCases
{
    static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static readonly Lazy<PldrTokenizer> Paper = new(() => PldrTokenizer.Load(Fixtures.PaperTokenizer));
    public static readonly Lazy<PldrTokenizer> Pydoc = new(() => PldrTokenizer.Load(Fixtures.PydocTokenizer));

    public static readonly IReadOnlyList<TokenizerCase> All = Load();

    public static TheoryData<int> Indexes => [.. Enumerable.Range(0, All.Count)];

    static List<TokenizerCase> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Fixtures.TokenizerCases));
        return doc.RootElement.GetProperty("cases").Deserialize<List<TokenizerCase>>(Options)!;
    }
}
