using PldrGen.Runtime.Text;
using Xunit;

namespace PldrGen.Tests.Text;

/// <summary>Streaming decoding must add up to Decode and must never split a character.</summary>
public class StreamingDecoderTests
{
    static PldrTokenizer Paper => TokenizerCases.Paper.Value;

    static List<string> Stream(PldrTokenizer tokenizer, IEnumerable<int> ids)
    {
        var decoder = tokenizer.CreateStreamingDecoder();
        var parts = ids.Select(decoder.Append).ToList();
        parts.Add(decoder.Flush());
        return parts;
    }

    [Theory, MemberData(nameof(TokenizerCases.Indexes), MemberType = typeof(TokenizerCases))]
    public void Streamed_case_adds_up_to_decode(int index)
    {
        var c = TokenizerCases.All[index];
        Assert.Equal(c.Decoded, string.Concat(Stream(Paper, c.Ids)));
    }

    [Fact]
    public void Streamed_random_ids_add_up_to_decode()
    {
        var random = new Random(42);
        for (int i = 0; i < 2000; i++)
        {
            // Mostly byte pieces, so that valid, broken and unfinished characters all occur.
            int[] ids = [.. Enumerable.Range(0, random.Next(12)).Select(_ => random.Next(4) switch
            {
                0 => random.Next(Paper.VocabSize),
                1 => random.Next(6),
                _ => 6 + (random.Next(2) == 0 ? random.Next(256) : 0x80 + random.Next(0x40)),
            })];
            Assert.Equal(Paper.Decode(ids), string.Concat(Stream(Paper, ids)));
        }
    }

    [Fact]
    public void Streamed_random_text_adds_up_to_decode()
    {
        var random = new Random(3);
        for (int i = 0; i < 200; i++)
        {
            int[] ids = Paper.Encode(TokenizerPropertyTests.RandomText(random, 30));
            Assert.Equal(Paper.Decode(ids), string.Concat(Stream(Paper, ids)));
        }
    }

    [Fact]
    public void Byte_pieces_are_held_until_their_character_is_complete()
    {
        int[] ids = Paper.Encode("a 🚀");
        Assert.Equal(["a", " ", "", "", "", "🚀", ""], Stream(Paper, ids));
    }

    [Fact]
    public void Unfinished_character_becomes_replacement_characters()
    {
        int e6 = 6 + 0xE6, x9d = 6 + 0x9D;
        Assert.Equal(["", "", "\uFFFD\uFFFD"], Stream(Paper, [e6, x9d]));
        Assert.Equal(["", "", "\uFFFD\uFFFD Tell", ""], Stream(Paper, [e6, x9d, Paper.Encode("Tell")[0]]));
    }

    [Fact]
    public void First_piece_loses_its_dummy_prefix_space()
    {
        var decoder = Paper.CreateStreamingDecoder();
        Assert.Equal("", decoder.Append(PldrTokenizer.StartId));
        Assert.Equal("Tell", decoder.Append(Paper.Encode("Tell")[0]));
        Assert.Equal(" me", decoder.Append(Paper.Encode("me")[0]));
        Assert.Equal("", decoder.Flush());
    }
}
