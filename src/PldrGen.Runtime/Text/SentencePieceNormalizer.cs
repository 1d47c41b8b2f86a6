using System.Runtime.InteropServices;
using System.Text;

namespace PldrGen.Runtime.Text;

/// <summary>
/// sentencepiece's Normalizer::Normalize for add_dummy_prefix, remove_extra_whitespaces and escape_whitespaces (the
/// PLDR-LLM settings): charsmap rules (nmt_nfkc), user-defined pieces passed through untouched, leading, trailing and
/// repeated spaces dropped, a "▁" in front, every space written as "▁". Works on UTF-8 bytes, as sentencepiece does.
/// </summary>
sealed class SentencePieceNormalizer(PrecompiledCharsMap? charsMap, PieceTrie userDefinedPieces)
{
    public static ReadOnlySpan<byte> SpaceSymbol => "\u2581"u8;
    static ReadOnlySpan<byte> ReplacementCharacter => "\uFFFD"u8;

    public byte[] Normalize(string text)
    {
        ReadOnlySpan<byte> input = Encoding.UTF8.GetBytes(text);
        var output = new List<byte>(input.Length * 3);

        while (!input.IsEmpty)
        {
            int consumed = NormalizePrefix(input, out var replacement);
            if (!replacement.SequenceEqual(" "u8)) break;
            input = input[consumed..];
        }
        if (input.IsEmpty) return [];

        output.AddRange(SpaceSymbol);
        bool previousWasSpace = true;
        while (!input.IsEmpty)
        {
            int consumed = NormalizePrefix(input, out var replacement);
            while (previousWasSpace && !replacement.IsEmpty && replacement[0] == (byte)' ') replacement = replacement[1..];
            if (!replacement.IsEmpty)
            {
                foreach (byte b in replacement)
                    if (b == (byte)' ') output.AddRange(SpaceSymbol);
                    else output.Add(b);
                previousWasSpace = replacement[^1] == (byte)' ';
            }
            input = input[consumed..];
        }

        while (CollectionsMarshal.AsSpan(output).EndsWith(SpaceSymbol))
            output.RemoveRange(output.Count - SpaceSymbol.Length, SpaceSymbol.Length);
        return [.. output];
    }

    /// <summary>How many input bytes the next rule consumes, and what it writes in their place.</summary>
    int NormalizePrefix(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> replacement)
    {
        int userDefined = LongestUserDefinedPrefix(input);
        if (userDefined > 0)
        {
            replacement = input[..userDefined];
            return userDefined;
        }
        if (charsMap is not null)
        {
            int matched = charsMap.LongestMatch(input, out replacement);
            if (matched > 0) return matched;
        }
        if (SentencePieceUtf8.TryDecodeChar(input, out int length))
        {
            replacement = input[..length];
            return length;
        }
        replacement = ReplacementCharacter;
        return 1;
    }

    int LongestUserDefinedPrefix(ReadOnlySpan<byte> input)
    {
        int longest = 0, node = 0;
        for (int i = 0; i < input.Length && userDefinedPieces.Step(ref node, input[i]); i++)
            if (userDefinedPieces.PieceAt(node) >= 0) longest = i + 1;
        return longest;
    }
}
