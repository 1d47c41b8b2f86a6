using System.Text.Json;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>
/// The typed fields of one JSON object read through <see cref="JsonInput"/> (config.json, the authors' hpdict): a
/// missing or null field is absent, a field of the wrong kind is refused in one line naming the file and the field.
/// </summary>
readonly struct JsonFields(JsonElement root, string path, string what)
{
    public int Required(string name) => Int(name) ?? throw new PldrException($"{path}: required {what} '{name}' is missing");

    public int? Int(string name) => Field(name) is not { } v ? null
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i
        : throw new PldrException($"{path}: {what} '{name}' must be an integer, found {v}");

    public double? FiniteDouble(string name) => Field(name) is not { } v ? null
        : v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d) ? d
        : throw new PldrException($"{path}: {what} '{name}' must be a finite number, found {v}");

    public bool? Bool(string name) => Field(name) is not { } v ? null
        : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
        : throw new PldrException($"{path}: {what} '{name}' must be true or false, found {v}");

    /// <summary>A string field; any other kind counts as absent (custom_G_type: null means a learned G).</summary>
    public string? String(string name) => Field(name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    JsonElement? Field(string name) => root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
}
