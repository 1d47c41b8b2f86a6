using PldrGen.Runtime;
using PldrGen.Runtime.Generation;
using Xunit;

namespace PldrGen.Tests.Generation;

/// <summary>Stop strings found across token boundaries, never shown in part.</summary>
public sealed class StopStringsTests
{
    static string[] Stream(string[] stops, params string[] pieces)
    {
        var s = new StopStrings(stops);
        var shown = pieces.Select(s.Append).ToList();
        shown.Add(s.Flush());
        return [.. shown];
    }

    [Fact]
    public void A_stop_string_split_over_tokens_stops_and_is_never_shown() =>
        Assert.Equal(["He", "l", "", "", ""], Stream(["lo w"], "Hel", "lo", " wo", "rld"));

    [Fact]
    public void Text_held_back_as_a_possible_start_is_released_when_it_is_not_one() =>
        Assert.Equal(["x", "", "abd", "!", ""], Stream(["abc"], "xa", "b", "d", "!"));

    [Fact]
    public void The_earliest_of_several_stop_strings_wins() =>
        Assert.Equal(["one ", ""], Stream(["three", "two"], "one two three"));

    [Fact]
    public void Held_back_text_comes_out_when_the_sequence_ends() =>
        Assert.Equal(["the en", "d"], Stream(["dz"], "the end"));

    [Fact]
    public void Without_stop_strings_every_piece_passes_at_once() =>
        Assert.Equal(["a", "b", ""], Stream([], "a", "b"));

    [Fact]
    public void A_surrogate_pair_is_never_split() =>
        Assert.Equal(["a", "😀b", ""], Stream(["\uDE00x"], "a😀", "b"));

    [Fact]
    public void An_empty_stop_string_is_refused() =>
        Assert.Equal("a stop string must not be empty", Assert.Throws<PldrException>(() => new StopStrings([""])).Message);
}
