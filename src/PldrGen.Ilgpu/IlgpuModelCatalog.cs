using System.Collections.Concurrent;
using ILGPU.Runtime;
using PldrGen.Runtime;

namespace PldrGen.Ilgpu;

/// <summary>
/// The ILGPU models compiled into the running program, by the type name of their spec's CPU model
/// (<see cref="PldrModelInfo.TypeName"/>). Generated code registers each one from a module initializer.
/// </summary>
public static class IlgpuModelCatalog
{
    static readonly ConcurrentDictionary<string, Func<string, Accelerator, IPldrModel>> Loaders = new(StringComparer.Ordinal);

    // The first registered model also offers the ILGPU devices to the command line (--device ilgpu-cpu|cuda|opencl).
    static IlgpuModelCatalog()
    {
        foreach (var device in IlgpuDevices.Names)
            PldrDevices.Register(device, (info, directory) => IlgpuDevices.Load(info, directory, device));
    }

    /// <summary>Registers the loader of a spec's ILGPU model: (checkpoint folder, accelerator) → model.</summary>
    public static void Register(string typeName, Func<string, Accelerator, IPldrModel> load) => Loaders[typeName] = load;

    public static IReadOnlyList<string> TypeNames => Loaders.Keys.Order(StringComparer.Ordinal).ToList();

    public static Func<string, Accelerator, IPldrModel> Find(string typeName) =>
        Loaders.TryGetValue(typeName, out var load) ? load
        : throw new PldrException($"{typeName} has no ILGPU model: the assembly that compiles its spec must reference PldrGen.Ilgpu");
}
