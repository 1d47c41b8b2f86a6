namespace PldrGen.Runtime.Kernels;

/// <summary>The short names users type for a <see cref="WeightPrecision"/> (<c>pldr --weights</c>, the benches): one table.</summary>
public static class WeightPrecisionNames
{
    static readonly (string Name, WeightPrecision Precision)[] Table =
        [("f32", WeightPrecision.Float32), ("bf16", WeightPrecision.BFloat16), ("f16", WeightPrecision.Float16), ("int8", WeightPrecision.Int8)];

    /// <summary>f32, bf16, f16 and int8, in that order.</summary>
    public static IReadOnlyList<string> All { get; } = Array.ConvertAll(Table, entry => entry.Name);

    /// <summary>The precision a short name stands for, or false for any other string (case matters, as on the command line).</summary>
    public static bool TryParse(string name, out WeightPrecision precision)
    {
        foreach (var entry in Table)
            if (entry.Name == name) { precision = entry.Precision; return true; }
        precision = default;
        return false;
    }

    /// <summary>The precision a short name stands for; another string is refused with the names that are accepted.</summary>
    /// <exception cref="PldrException">The name is none of <see cref="All"/>.</exception>
    public static WeightPrecision Parse(string name) => TryParse(name, out var precision) ? precision
        : throw new PldrException($"weight precision '{name}' is none of {string.Join(", ", All)}");

    /// <summary>The short name of a precision.</summary>
    public static string Name(this WeightPrecision precision) => Array.Find(Table, entry => entry.Precision == precision).Name
        ?? throw new ArgumentOutOfRangeException(nameof(precision), precision, null);
}
