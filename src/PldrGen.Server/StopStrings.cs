namespace PldrGen.Server;

/// <summary>
/// Cuts a stream of text pieces at the first stop string, across piece boundaries: text that could still begin a
/// stop string is held back, so what <see cref="Append"/> returns never shows part of one.
/// </summary>
sealed class StopStrings(IReadOnlyList<string> stops)
{
    string _held = "";

    /// <summary>True once a stop string appeared; nothing from it on is returned.</summary>
    public bool Stopped { get; private set; }

    public string Append(string piece)
    {
        if (Stopped) return "";
        if (stops.Count == 0) return piece;
        string text = _held + piece;
        int cut = stops.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(at => at >= 0).DefaultIfEmpty(-1).Min();
        if (cut >= 0)
        {
            Stopped = true;
            _held = "";
            return text[..cut];
        }
        int keep = stops.Max(s => PartialLength(text, s));
        if (keep > 0 && keep < text.Length && char.IsLowSurrogate(text[^keep])) keep++; // never split a surrogate pair
        _held = text[^keep..];
        return text[..^keep];
    }

    /// <summary>What is still held back when the sequence ends without a stop string.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _held;
        _held = "";
        return rest;
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that is a proper beginning of <paramref name="stop"/>.</summary>
    static int PartialLength(string text, string stop)
    {
        for (int length = Math.Min(stop.Length - 1, text.Length); length > 0; length--)
            if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length))) return length;
        return 0;
    }
}
