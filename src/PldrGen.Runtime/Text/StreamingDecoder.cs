using System.Runtime.InteropServices;
using System.Text;

namespace PldrGen.Runtime.Text;

/// <summary>
/// Decodes ids one at a time for streaming generation. Byte-fallback bytes are held until the character they belong
/// to is complete (or can no longer become valid), so the pieces returned by <see cref="Append"/> followed by
/// <see cref="Flush"/> concatenate to exactly <see cref="PldrTokenizer.Decode"/> of all ids.
/// </summary>
public sealed class StreamingDecoder
{
    readonly PldrTokenizer _tokenizer;
    readonly List<byte> _pendingBytes = [];
    bool _wroteText;   // sentencepiece drops the dummy-prefix space only while the decoded text is still empty

    internal StreamingDecoder(PldrTokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>The text that <paramref name="id"/> completes; empty while a character is still incomplete.</summary>
    /// <exception cref="PldrException">The id is outside the vocabulary.</exception>
    public string Append(int id)
    {
        _tokenizer.CheckId(id);
        var text = new StringBuilder();
        int value = _tokenizer.ByteOf(id);
        if (value >= 0)
        {
            _pendingBytes.Add((byte)value);
            TakeBytes(SentencePieceUtf8.SettledLength(CollectionsMarshal.AsSpan(_pendingBytes)), text);
        }
        else
        {
            TakeBytes(_pendingBytes.Count, text);
            text.Append(_tokenizer.Surface(id, atStart: !_wroteText && text.Length == 0));
        }
        _wroteText |= text.Length > 0;
        return text.ToString();
    }

    /// <summary>Whatever bytes are still held, each incomplete character becoming U+FFFD as in Decode.</summary>
    public string Flush()
    {
        var text = new StringBuilder();
        TakeBytes(_pendingBytes.Count, text);
        _wroteText |= text.Length > 0;
        return text.ToString();
    }

    void TakeBytes(int count, StringBuilder text)
    {
        SentencePieceUtf8.AppendBytes(CollectionsMarshal.AsSpan(_pendingBytes)[..count], text);
        _pendingBytes.RemoveRange(0, count);
    }
}
