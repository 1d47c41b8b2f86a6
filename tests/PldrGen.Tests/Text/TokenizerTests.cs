using PldrGen.Runtime;
using PldrGen.Runtime.Text;
using Xunit;

namespace PldrGen.Tests.Text;

/// <summary>The tokenizer against the sentencepiece library's output (cases.json) and its error handling.</summary>
public class TokenizerTests
{
    static PldrTokenizer Paper => TokenizerCases.Paper.Value;
    static PldrTokenizer Pydoc => TokenizerCases.Pydoc.Value;

    [Fact]
    public void Cases_file_describes_the_paper_tokenizer_without_bos_or_eos()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Fixtures.TokenizerCases));
        var root = doc.RootElement;
        Assert.Equal(Paper.VocabSize, root.GetProperty("vocab_size").GetInt32());
        Assert.False(root.GetProperty("add_bos").GetBoolean());
        Assert.False(root.GetProperty("add_eos").GetBoolean());
        var special = root.GetProperty("special");
        int[] expected = [PldrTokenizer.PadId, PldrTokenizer.UnknownId, PldrTokenizer.StartId, PldrTokenizer.EndId];
        Assert.Equal(expected, new[] { "pad", "unk", "bos", "eos" }.Select(name => special.GetProperty(name).GetInt32()));
        Assert.Equal(9, TokenizerCases.All.Count);
    }

    [Theory, MemberData(nameof(TokenizerCases.Indexes), MemberType = typeof(TokenizerCases))]
    public void Encode_gives_sentencepiece_ids(int index)
    {
        var c = TokenizerCases.All[index];
        Assert.Equal(c.Ids, Paper.Encode(c.Text));
    }

    [Theory, MemberData(nameof(TokenizerCases.Indexes), MemberType = typeof(TokenizerCases))]
    public void Pieces_gives_sentencepiece_pieces(int index)
    {
        var c = TokenizerCases.All[index];
        Assert.Equal(c.Pieces, Paper.Pieces(c.Text));
    }

    [Theory, MemberData(nameof(TokenizerCases.Indexes), MemberType = typeof(TokenizerCases))]
    public void Decode_gives_sentencepiece_text(int index)
    {
        var c = TokenizerCases.All[index];
        Assert.Equal(c.Decoded, Paper.Decode(c.Ids));
    }

    [Fact]
    public void Vocabulary_sizes_are_the_models_piece_counts()
    {
        Assert.Equal(32000, Paper.VocabSize);
        Assert.Equal(4096, Pydoc.VocabSize);
    }

    [Fact]
    public void Pydoc_tokenizer_encodes_its_reference_prompt() =>
        Assert.Equal(new[] { 279, 551, 320 }, Pydoc.Encode("The import statement"));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" \n\t ")]
    public void Empty_prompt_becomes_end_token(string prompt) =>
        Assert.Equal(new[] { PldrTokenizer.EndId }, Paper.EncodePrompt(prompt));

    [Fact]
    public void Nonempty_prompt_encodes_like_text() =>
        Assert.Equal(Paper.Encode("Tell me"), Paper.EncodePrompt("Tell me"));

    [Fact]
    public void Special_ids_decode_like_sentencepiece()
    {
        int tell = Paper.Encode("Tell")[0];
        Assert.Equal("", Paper.Decode([PldrTokenizer.PadId, PldrTokenizer.StartId, PldrTokenizer.EndId]));
        Assert.Equal(" \u2047 ", Paper.Decode([PldrTokenizer.UnknownId]));
        Assert.Equal("Tell", Paper.Decode([PldrTokenizer.StartId, tell]));   // control pieces write nothing: still at start
        Assert.Equal("Tell Tell", Paper.Decode([tell, PldrTokenizer.EndId, tell]));
        Assert.Equal("[SEP][CLS]", Paper.Decode([4, 5]));
    }

    [Fact]
    public void Broken_byte_sequences_decode_to_one_replacement_per_byte()
    {
        int[] bytes = [0xE6, 0x9D, 0x41, 0xC3, 0xF0, 0x9F, 0x9A, 0x80, 0xC0, 0x80, 0xED, 0xA0, 0x80, 0xFF];
        string decoded = Paper.Decode(bytes.Select(b => 6 + b).ToArray());
        Assert.Equal("\uFFFD\uFFFDA\uFFFD\U0001F680\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD", decoded);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(32000)]
    [InlineData(int.MaxValue)]
    public void Out_of_range_id_is_named(int id)
    {
        var e = Assert.Throws<PldrException>(() => Paper.Decode([262, id]));
        Assert.Contains(id.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.Throws<PldrException>(() => Paper.CreateStreamingDecoder().Append(id));
    }

    [Fact]
    public void Missing_model_file_names_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.model");
        var e = Assert.Throws<PldrException>(() => PldrTokenizer.Load(path));
        Assert.StartsWith($"{path}: ", e.Message);
    }

    [Theory]
    [InlineData("not a model")]
    [InlineData("truncated")]
    [InlineData("empty")]
    public void Malformed_model_file_names_the_path(string kind)
    {
        byte[] model = File.ReadAllBytes(Fixtures.PydocTokenizer);
        byte[] content = kind switch
        {
            "not a model" => File.ReadAllBytes(Path.Combine(Fixtures.ModelDir("pldr-tiny-pydoc"), "config.json")),
            "truncated" => model[..(model.Length / 2)],
            _ => [],
        };
        string path = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.model");
        File.WriteAllBytes(path, content);
        try
        {
            var e = Assert.Throws<PldrException>(() => PldrTokenizer.Load(path));
            Assert.StartsWith($"{path}: ", e.Message);
        }
        finally { File.Delete(path); }
    }
}
