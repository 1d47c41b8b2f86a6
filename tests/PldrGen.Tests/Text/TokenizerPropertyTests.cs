using System.Text;
using PldrGen.Runtime.Text;
using Xunit;

namespace PldrGen.Tests.Text;

/// <summary>
/// Properties sentencepiece's nmt_nfkc unigram tokenization must have, checked on texts beyond the reference cases
/// (the library itself is not available to write more references).
/// </summary>
public class TokenizerPropertyTests
{
    // Characters that nmt_nfkc leaves alone, ones it turns into a space, and ones it deletes (checked in the charsmap).
    const string Kept = "aZq09.,;:!?()[]{}-_'\"/#%&*+=<>@\\^`|~éüßñøÆ東京語한국العربية😀🚀𝄞ΩЖ€£¥";
    const string Spaces = " \t\n\r\f\u00A0\u3000";
    const string Deleted = "\u0001\u000B\u007F";

    public static TheoryData<string> Models => ["paper", "pydoc"];

    static PldrTokenizer Tokenizer(string model) => model == "paper" ? TokenizerCases.Paper.Value : TokenizerCases.Pydoc.Value;

    /// <summary>What decoding gives back for a text of <see cref="Kept"/>, <see cref="Spaces"/> and <see cref="Deleted"/>.</summary>
    static string Normalized(string text)
    {
        var result = new StringBuilder();
        foreach (char c in text)
        {
            if (Deleted.Contains(c)) continue;
            bool space = Spaces.Contains(c);
            if (space && (result.Length == 0 || result[^1] == ' ')) continue;
            result.Append(space ? ' ' : c);
        }
        return result.ToString().TrimEnd(' ');
    }

    public static string RandomText(Random random, int maxLength)
    {
        string[] pool = [.. (Kept + Spaces + Deleted).EnumerateRunes().Select(r => r.ToString())];
        return string.Concat(Enumerable.Range(0, random.Next(maxLength + 1)).Select(_ => pool[random.Next(pool.Length)]));
    }

    [Theory, MemberData(nameof(Models))]
    public void Random_text_round_trips_to_its_normalized_form(string model)
    {
        var tokenizer = Tokenizer(model);
        var random = new Random(20260126);
        for (int i = 0; i < 500; i++)
        {
            string text = RandomText(random, 40);
            int[] ids = tokenizer.Encode(text);
            Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
            Assert.Equal(Normalized(text), tokenizer.Decode(ids));
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void Control_characters_are_deleted_and_white_space_becomes_one_space(string model)
    {
        var tokenizer = Tokenizer(model);
        Assert.Equal("abcd", tokenizer.Decode(tokenizer.Encode("a\u0001b\u007Fc\u000Bd")));
        Assert.Equal("a b c", tokenizer.Decode(tokenizer.Encode("\u0001 a\t\tb\r\n\u3000c \u007F ")));
        Assert.Empty(tokenizer.Encode("\u0001\u007F"));
    }

    [Theory, MemberData(nameof(Models))]
    public void White_space_runs_encode_like_one_space(string model)
    {
        var tokenizer = Tokenizer(model);
        int[] single = tokenizer.Encode("The value of x is 42");
        Assert.Equal(single, tokenizer.Encode("  The value\t of\n\nx   is 42 \n"));
        Assert.Equal(single, tokenizer.Encode("\u3000The\u00A0value of x is\u000C42"));
    }

    [Theory, MemberData(nameof(Models))]
    public void Nfkc_composes_combining_marks_and_unfolds_compatibility_forms(string model)
    {
        var tokenizer = Tokenizer(model);
        Assert.Equal("\u00E9 \u00FC", tokenizer.Decode(tokenizer.Encode("e\u0301 u\u0308")));
        Assert.Equal("x\u0301", tokenizer.Decode(tokenizer.Encode("x\u0301")));
        Assert.Equal("FULL fi 1 \u30AB", tokenizer.Decode(tokenizer.Encode("ＦＵＬＬ ﬁ ① ｶ")));
    }

    [Theory, MemberData(nameof(Models))]
    public void Characters_outside_the_vocabulary_fall_back_to_their_utf8_bytes(string model)
    {
        var tokenizer = Tokenizer(model);
        const string text = "東京 🚀 𝄞";
        var pieces = tokenizer.Pieces(text);
        Assert.Contains("<0xF0>", pieces);
        Assert.DoesNotContain(PldrTokenizer.UnknownId, tokenizer.Encode(text));
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Theory, MemberData(nameof(Models))]
    public void Digits_are_split_one_per_piece(string model)
    {
        var tokenizer = Tokenizer(model);
        var random = new Random(7);
        for (int i = 0; i < 50; i++)
        {
            string digits = string.Concat(Enumerable.Range(0, random.Next(1, 30)).Select(_ => random.Next(10)));
            string text = $"pi {digits}x and -{digits}.5";
            var pieces = tokenizer.Pieces(text);
            Assert.All(pieces.Where(p => p.Any(char.IsAsciiDigit)), p => Assert.Equal(1, p.Length));
            Assert.Equal(2 * digits.Length + 1, pieces.Count(p => p.Any(char.IsAsciiDigit)));
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void User_defined_pieces_are_always_taken_whole(string model)
    {
        var tokenizer = Tokenizer(model);
        int[] ids = tokenizer.Encode("x [SEP] y[CLS]z");
        Assert.Contains(4, ids);
        Assert.Contains(5, ids);
        Assert.Equal("x [SEP] y[CLS]z", tokenizer.Decode(ids));
    }
}
