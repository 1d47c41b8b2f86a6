using System.Text;

namespace PldrGen.Runtime.Generation;

/// <summary>
/// Finds stop strings in a stream of decoded text, across token boundaries. Text that could still be the start of
/// a stop string is held back, so a caller streaming what <see cref="Append"/> returns never shows part of one.
/// </summary>
sealed class StopStrings
{
    readonly string[] _stops;
    readonly StringBuilder _held = new();

    public StopStrings(IReadOnlyList<string> stops)
    {
        foreach (string stop in stops)
            if (string.IsNullOrEmpty(stop)) throw new PldrException("a stop string must not be empty");
        _stops = [.. stops];
    }

    /// <summary>True once a stop string appeared; the text from it on is dropped.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The text now safe to pass on: everything before a stop string, or before a possible start of one.</summary>
    public string Append(string piece)
    {
        if (Stopped) return "";
        if (_stops.Length == 0) return piece;
        _held.Append(piece);
        string text = _held.ToString();
        int end = FirstStop(text);
        if (end >= 0) Stopped = true;
        else end = text.Length - LongestPartialStop(text);
        if (end > 0 && end < text.Length && char.IsLowSurrogate(text[end])) end--; // never split a surrogate pair
        _held.Remove(0, end);
        return text[..end];
    }

    /// <summary>Whatever is held back when the sequence ends without a stop string.</summary>
    public string Flush()
    {
        string text = Stopped ? "" : _held.ToString();
        _held.Clear();
        return text;
    }

    int FirstStop(string text)
    {
        int first = -1;
        foreach (string stop in _stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        return first;
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that begins some stop string.</summary>
    int LongestPartialStop(string text)
    {
        int longest = 0;
        foreach (string stop in _stops)
            for (int length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
        return longest;
    }
}
