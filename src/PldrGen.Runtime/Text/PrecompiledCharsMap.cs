using System.Buffers.Binary;

namespace PldrGen.Runtime.Text;

/// <summary>
/// The normalizer's precompiled_charsmap: a darts-clone double-array trie over UTF-8 prefixes whose values point into
/// a block of NUL-terminated replacement strings (layout: trie size as uint32 LE, trie units, replacements).
/// </summary>
sealed class PrecompiledCharsMap
{
    readonly uint[] _units;
    readonly byte[] _replacements;

    /// <exception cref="InvalidDataException">The blob does not have that layout.</exception>
    public PrecompiledCharsMap(ReadOnlySpan<byte> blob)
    {
        if (blob.Length <= 4) throw new InvalidDataException("normalization rules are truncated");
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieSize >= blob.Length - 4 || trieSize % 4 != 0 || trieSize == 0)
            throw new InvalidDataException("normalization trie size does not fit the rules");
        _units = new uint[trieSize / 4];
        for (int i = 0; i < _units.Length; i++) _units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob[(4 + 4 * i)..]);
        _replacements = blob[(4 + (int)trieSize)..].ToArray();
        // Every rule's value must point into the replacements: checked once here, not on the text that reaches it.
        for (int i = 0; i < _units.Length; i++)
        {
            uint unit = _units[i];
            if ((unit & 0x80000000u) != 0 || (unit >> 8 & 1) == 0) continue;
            uint leaf = (uint)i ^ Offset(unit);
            if (leaf < _units.Length && (_units[leaf] & 0x7FFFFFFFu) >= _replacements.Length)
                throw new InvalidDataException("a normalization rule points past its replacements");
        }
    }

    /// <summary>
    /// Rules match one character or a short sequence; a scan never follows a trie further than this, so a hostile
    /// trie that loops back on itself cannot make normalisation quadratic in the text.
    /// </summary>
    const int MaxRuleBytes = 256;

    /// <summary>
    /// The longest rule matching a prefix of <paramref name="input"/>: its length in bytes (0 when none matches) and
    /// its replacement, which may be empty (the rule deletes the characters).
    /// </summary>
    public int LongestMatch(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> replacement)
    {
        replacement = default;
        int matched = 0, value = 0;
        uint node = Offset(_units[0]);
        for (int i = 0; i < Math.Min(input.Length, MaxRuleBytes); i++)
        {
            node ^= input[i];
            if (node >= _units.Length) break;
            uint unit = _units[node];
            if ((unit & 0x800000FFu) != input[i]) break;   // label check; a leaf unit's high bit never matches
            node ^= Offset(unit);
            if ((unit >> 8 & 1) == 0) continue;
            if (node >= _units.Length) break;
            matched = i + 1;
            value = (int)(_units[node] & 0x7FFFFFFFu);
        }
        if (matched == 0) return 0;
        int end = Array.IndexOf(_replacements, (byte)0, value);
        replacement = _replacements.AsSpan(value, (end < 0 ? _replacements.Length : end) - value);
        return matched;
    }

    static uint Offset(uint unit) => (unit >> 10) << (int)((unit & 0x200) >> 6);
}
