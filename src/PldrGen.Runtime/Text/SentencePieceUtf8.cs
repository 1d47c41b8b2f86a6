using System.Text;

namespace PldrGen.Runtime.Text;

/// <summary>
/// UTF-8 as sentencepiece reads it (string_util::DecodeUTF8): a character is valid only when complete, not overlong,
/// not a surrogate and at most U+10FFFF; otherwise its first byte alone counts as one U+FFFD. .NET's decoder instead
/// replaces a whole ill-formed subsequence with one U+FFFD, so byte-fallback pieces are decoded here.
/// </summary>
static class SentencePieceUtf8
{
    /// <summary>Whether <paramref name="bytes"/> starts with a valid character; its length, or 1 when invalid.</summary>
    public static bool TryDecodeChar(ReadOnlySpan<byte> bytes, out int length)
    {
        length = 1;
        byte lead = bytes[0];
        if (lead < 0x80) return true;
        int expected = ExpectedLength(lead);
        if (expected == 0 || bytes.Length < expected) return false;
        int codePoint = lead & (0x7F >> expected);
        for (int i = 1; i < expected; i++)
        {
            if (!IsTrailByte(bytes[i])) return false;
            codePoint = codePoint << 6 | bytes[i] & 0x3F;
        }
        int smallest = expected switch { 2 => 0x80, 3 => 0x800, _ => 0x10000 };
        if (codePoint < smallest || !Rune.IsValid(codePoint)) return false;
        length = expected;
        return true;
    }

    /// <summary>Appends the text of a run of byte pieces, one U+FFFD per byte that does not start a valid character.</summary>
    public static void AppendBytes(ReadOnlySpan<byte> bytes, StringBuilder text)
    {
        while (!bytes.IsEmpty)
        {
            if (TryDecodeChar(bytes, out int length)) text.Append(Encoding.UTF8.GetString(bytes[..length]));
            else text.Append('\uFFFD');
            bytes = bytes[length..];
        }
    }

    /// <summary>
    /// How many leading bytes decode the same whatever bytes follow: all of them except a trailing character that is
    /// still incomplete but could become valid.
    /// </summary>
    public static int SettledLength(ReadOnlySpan<byte> bytes)
    {
        int settled = 0;
        while (settled < bytes.Length)
        {
            var rest = bytes[settled..];
            int expected = ExpectedLength(rest[0]);
            if (expected > rest.Length && IsTrailSequence(rest[1..])) return settled;
            TryDecodeChar(rest, out int length);
            settled += length;
        }
        return settled;
    }

    /// <summary>Sequence length announced by a lead byte (sentencepiece's masks); 0 for a byte that cannot lead.</summary>
    static int ExpectedLength(byte lead) => lead switch
    {
        < 0x80 => 1,
        >= 0xC0 and < 0xE0 => 2,
        >= 0xE0 and < 0xF0 => 3,
        >= 0xF0 and < 0xF8 => 4,
        _ => 0,
    };

    static bool IsTrailSequence(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            if (!IsTrailByte(b)) return false;
        return true;
    }

    static bool IsTrailByte(byte b) => (b & 0xC0) == 0x80;
}
