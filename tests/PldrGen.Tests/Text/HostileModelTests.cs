using System.Diagnostics;
using System.Text;
using PldrGen.Runtime;
using PldrGen.Runtime.Text;
using Xunit;

namespace PldrGen.Tests.Text;

/// <summary>
/// Tokenizer files crafted to break the normaliser (tests/fixtures/tokenizer/hostile, made by mutating the paper's
/// model): refused at load with the path, or bounded in work, never an internal error.
/// </summary>
public class HostileModelTests
{
    static string Hostile(string name) => Path.Combine(Fixtures.Root, "tokenizer", "hostile", name);

    [Fact]
    public void A_rule_pointing_past_its_replacements_is_refused_at_load()
    {
        var e = Assert.Throws<PldrException>(() => PldrTokenizer.Load(Hostile("oob.model")));
        Assert.StartsWith(Hostile("oob.model") + ":", e.Message);
        Assert.Contains("points past its replacements", e.Message);
    }

    [Fact]
    public void A_trie_that_loops_on_itself_still_encodes_into_valid_ids()
    {
        // This trie maps 'a' back onto itself. Scans stop after 256 bytes (PrecompiledCharsMap.MaxRuleBytes), so the
        // work stays linear in the text; before that bound 80k characters took 9 s here (measured by a reviewer).
        var tokenizer = PldrTokenizer.Load(Hostile("cycle.model"));
        var ids = tokenizer.Encode(new string('a', 20_000));
        Assert.NotEmpty(ids);
        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
    }

    /// <summary>The demo model with extra pieces appended (repeated field 1 of ModelProto), written to a file.</summary>
    internal static string WithPieces(TempDirectory dir, IEnumerable<string> texts, int type)
    {
        var model = new MemoryStream();
        model.Write(File.ReadAllBytes(Fixtures.PydocTokenizer));
        foreach (var text in texts)
        {
            var piece = new MemoryStream();
            piece.WriteByte(0x0A); // text: field 1, length-delimited
            WriteBytes(piece, Encoding.UTF8.GetBytes(text));
            piece.WriteByte(0x18); // type: field 3, varint
            piece.WriteByte((byte)type);
            model.WriteByte(0x0A); // pieces: field 1, length-delimited
            WriteBytes(model, piece.ToArray());
        }
        string path = dir.File("hostile.model");
        File.WriteAllBytes(path, model.ToArray());
        return path;

        static void WriteBytes(Stream s, byte[] bytes)
        {
            for (uint n = (uint)bytes.Length; ; n >>= 7)
            {
                if (n < 0x80) { s.WriteByte((byte)n); break; }
                s.WriteByte((byte)(n | 0x80));
            }
            s.Write(bytes);
        }
    }

    [Fact]
    public void Thirty_thousand_user_defined_pieces_cost_little_per_byte_of_text()
    {
        // Before the user-defined pieces were a trie, the normaliser tried every one at every byte: 57 s here.
        using var dir = new TempDirectory();
        var tokenizer = PldrTokenizer.Load(WithPieces(dir, Enumerable.Range(0, 30_000).Select(i => $"<u{i}>"), type: 4));
        var clock = Stopwatch.StartNew();
        var ids = tokenizer.Encode(string.Concat(Enumerable.Repeat("x <u17> y <u29999>z ", 5_000)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"encoding took {clock.Elapsed}"); // a sanity bound: tests run in parallel
        Assert.Equal(10_000, ids.Count(id => id == 4096 + 17 || id == 4096 + 29_999));
    }

    [Fact]
    public void A_piece_longer_than_a_trained_piece_can_be_is_refused_at_load()
    {
        // One 60,000-byte piece made the trie walk from every start cost 60,000 steps: 46 s for 100 KB of text.
        using var dir = new TempDirectory();
        string path = WithPieces(dir, [new string('a', 60_000)], type: 1);
        var e = Assert.Throws<PldrException>(() => PldrTokenizer.Load(path));
        Assert.Equal($"{path}: not a PLDR-LLM SentencePiece model: piece 4096 has 60000 bytes, more than the 64 a piece may have", e.Message);
    }

    [Fact]
    public void A_model_at_the_size_limit_of_distinct_long_pieces_loads_within_200_MB()
    {
        // The worst case for the piece trie: every piece 64 bytes long and sharing no prefix, up to the 4 MiB limit.
        var random = new Random(11);
        using var dir = new TempDirectory();
        long budget = PldrTokenizer.MaxModelBytes - new FileInfo(Fixtures.PydocTokenizer).Length;
        var pieces = Enumerable.Range(0, (int)(budget / 70)).Select(_ => new string([.. Enumerable.Range(0, 64).Select(_ => (char)random.Next('!', '~'))]));
        string path = WithPieces(dir, pieces, type: 1);
        Assert.InRange(new FileInfo(path).Length, PldrTokenizer.MaxModelBytes * 9 / 10, PldrTokenizer.MaxModelBytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var tokenizer = PldrTokenizer.Load(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before; // 151 MB measured; 368 MB while the trie regrew
        Assert.True(allocated < 200L << 20, $"loading allocated {allocated >> 20} MB");
        Assert.True(tokenizer.VocabSize > 55_000);
    }
}
