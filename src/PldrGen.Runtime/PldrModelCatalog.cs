using System.Collections.Concurrent;

namespace PldrGen.Runtime;

/// <summary>
/// The specs compiled into the running program. Generated code registers each one from a module initializer,
/// so the command line finds every model of the assembly it runs in.
/// </summary>
public static class PldrModelCatalog
{
    static readonly ConcurrentDictionary<string, PldrModelInfo> Models = new(StringComparer.Ordinal);

    public static void Register(PldrModelInfo info) => Models[info.TypeName] = info;

    public static IReadOnlyList<PldrModelInfo> All => Models.Values.OrderBy(m => m.TypeName, StringComparer.Ordinal).ToList();
}
