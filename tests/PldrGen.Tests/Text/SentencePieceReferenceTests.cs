using System.Text.Json;
using PldrGen.Runtime.Text;
using Xunit;

namespace PldrGen.Tests.Text;

/// <summary>
/// The tokenizer against tests/fixtures/tokenizer/spm-reference.json: the real sentencepiece library (0.2.1, built
/// from source) on random Unicode, control characters, combining marks, tied segmentations and broken byte runs,
/// for both models. See reference/make_spm_reference.py for how it was made.
/// </summary>
public class SentencePieceReferenceTests
{
    sealed record EncodeCase(string Text, int[] Ids, string[] Pieces, string Decoded);
    sealed record DecodeCase(int[] Ids, string Decoded);
    sealed record ModelReference(string Name, EncodeCase[] Encode, DecodeCase[] Decode);

    static readonly Lazy<ModelReference[]> References = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures.Root, "tokenizer", "spm-reference.json")));
        return doc.RootElement.GetProperty("models").Deserialize<ModelReference[]>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    });

    public static TheoryData<string> Models => ["paper", "pydoc"];

    static (PldrTokenizer, ModelReference) Load(string model) =>
        (model == "paper" ? TokenizerCases.Paper.Value : TokenizerCases.Pydoc.Value, References.Value.Single(r => r.Name == model));

    static string Show(object value) => JsonSerializer.Serialize(value);

    [Theory, MemberData(nameof(Models))]
    public void Encoding_matches_sentencepiece(string model)
    {
        var (tokenizer, reference) = Load(model);
        Assert.True(reference.Encode.Length > 200);
        var wrong = reference.Encode
            .Where(c => !tokenizer.Encode(c.Text).SequenceEqual(c.Ids) || !tokenizer.Pieces(c.Text).SequenceEqual(c.Pieces))
            .Select(c => $"{Show(c.Text)}: expected {Show(c.Pieces)}, got {Show(tokenizer.Pieces(c.Text))}");
        Assert.Empty(wrong);
    }

    [Theory, MemberData(nameof(Models))]
    public void Decoding_encoded_text_matches_sentencepiece(string model)
    {
        var (tokenizer, reference) = Load(model);
        var wrong = reference.Encode.Where(c => tokenizer.Decode(c.Ids) != c.Decoded)
            .Select(c => $"{Show(c.Ids)}: expected {Show(c.Decoded)}, got {Show(tokenizer.Decode(c.Ids))}");
        Assert.Empty(wrong);
    }

    [Theory, MemberData(nameof(Models))]
    public void Decoding_random_ids_matches_sentencepiece_also_when_streamed(string model)
    {
        var (tokenizer, reference) = Load(model);
        Assert.True(reference.Decode.Length >= 200);
        var wrong = reference.Decode.Where(c => tokenizer.Decode(c.Ids) != c.Decoded || Streamed(tokenizer, c.Ids) != c.Decoded)
            .Select(c => $"{Show(c.Ids)}: expected {Show(c.Decoded)}, got {Show(tokenizer.Decode(c.Ids))} / {Show(Streamed(tokenizer, c.Ids))}");
        Assert.Empty(wrong);
    }

    static string Streamed(PldrTokenizer tokenizer, int[] ids)
    {
        var decoder = tokenizer.CreateStreamingDecoder();
        return string.Concat(ids.Select(decoder.Append)) + decoder.Flush();
    }
}
