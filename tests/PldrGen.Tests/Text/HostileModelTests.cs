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
}
