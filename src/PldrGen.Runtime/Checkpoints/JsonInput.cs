using System.Text.Json;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>
/// Parses JSON that strangers wrote (config.json, safetensors headers) into a document whose every string can be read.
/// System.Text.Json checks escapes only when a string is read: an escaped lone surrogate (<c>"\ud800"</c>) parses,
/// then throws InvalidOperationException from <c>GetString</c>, a property's <c>Name</c> or <c>ToString</c>. Every
/// string and name is read once here, so that such a file is refused naming the field, and later reads cannot throw.
/// </summary>
static class JsonInput
{
    /// <summary><see cref="Open"/>, then <see cref="RequireText"/> over the whole document.</summary>
    public static JsonDocument Parse(byte[] json, string path, string what)
    {
        var doc = Open(json, path, what);
        try
        {
            RequireText(doc.RootElement, path);
            return doc;
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    /// <summary>Parses without reading strings yet, so that a caller can check sizes first.</summary>
    /// <exception cref="PldrException">The bytes are not UTF-8 or not JSON.</exception>
    public static JsonDocument Open(byte[] json, string path, string what)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw new PldrException($"{path}: {what} is not valid UTF-8");
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw new PldrException($"{path}: {what} is not valid JSON ({e.Message})", e); }
    }

    /// <exception cref="PldrException">A string or property name under <paramref name="root"/> is not text.</exception>
    public static void RequireText(JsonElement root, string path) => CheckStrings(root, path, field: "");

    static void CheckStrings(JsonElement e, string path, string field)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                Read(() => e.GetString(), path, field.Length == 0 ? "the document" : $"field '{field}'");
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in e.EnumerateArray()) CheckStrings(item, path, $"{field}[{i++}]");
                break;
            case JsonValueKind.Object:
                foreach (var property in e.EnumerateObject())
                {
                    string name = Read(() => property.Name, path, field.Length == 0 ? "a key" : $"a key in '{field}'");
                    CheckStrings(property.Value, path, field.Length == 0 ? name : $"{field}.{name}");
                }
                break;
        }
    }

    static string Read(Func<string?> read, string path, string where)
    {
        try { return read() ?? ""; }
        catch (InvalidOperationException e) { throw new PldrException($"{path}: {where} holds a string that is not text ({e.Message})", e); }
    }
}
