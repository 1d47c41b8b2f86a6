namespace PldrGen.Runtime;

/// <summary>
/// Devices beyond the CPU path. A backend assembly (PldrGen.Ilgpu) registers its devices here when it loads, so
/// the command line offers them exactly when the program carries that backend: the JIT build of pldr does, the
/// NativeAOT build cannot (ILGPU generates code at run time).
/// </summary>
public static class PldrDevices
{
    public const string Cpu = "cpu";
    static readonly Dictionary<string, Func<PldrModelInfo, string, IPldrModel>> Loaders = new(StringComparer.Ordinal);

    public static void Register(string device, Func<PldrModelInfo, string, IPldrModel> load)
    {
        lock (Loaders) Loaders[device] = load;
    }

    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (Loaders) return [Cpu, .. Loaders.Keys.Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>Loads a checkpoint onto a registered device, or says which devices this program has.</summary>
    public static IPldrModel Load(PldrModelInfo info, string directory, string device)
    {
        Func<PldrModelInfo, string, IPldrModel>? load;
        lock (Loaders) Loaders.TryGetValue(device, out load);
        if (load is not null) return load(info, directory);
        if (device is "ilgpu-cpu" or "cuda" or "opencl" && Names.Count == 1)
            throw new PldrException($"--device {device}: this pldr has no GPU backends; they need the JIT build (dotnet run --project src/PldrGen.Cli -- generate --device {device}), as ILGPU cannot run under NativeAOT");
        throw new PldrException($"--device {device}: not available in this build; the devices are: {string.Join(", ", Names)}");
    }
}
