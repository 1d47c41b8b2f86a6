using System.Globalization;

namespace PldrGen.Runtime.Text;

/// <summary>The names of byte-fallback pieces: "&lt;0x41&gt;" for byte 0x41, upper-case hex as sentencepiece writes them.</summary>
static class BytePieces
{
    public static string Name(int value) => $"<0x{value:X2}>";

    /// <summary>The byte a piece name stands for, or -1 when it is not exactly one of the 256 names.</summary>
    public static int ValueOf(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
        && int.TryParse(piece.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value)
        && Name(value) == piece
            ? value
            : -1;
}
