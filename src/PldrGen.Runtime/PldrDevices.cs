namespace PldrGen.Runtime;

/// <summary>
/// Devices beyond the CPU path, by name. A backend assembly registers its own devices when it loads, so a program
/// offers exactly the devices it carries; a program built without a backend may register that backend's names as
/// unavailable, with the reason, so that asking for one says why instead of listing what there is.
/// </summary>
public static class PldrDevices
{
    public const string Cpu = "cpu";
    static readonly Dictionary<string, Func<PldrModelInfo, string, IPldrModel>> Loaders = new(StringComparer.Ordinal);
    static readonly Dictionary<string, string> Unavailable = new(StringComparer.Ordinal);

    /// <summary>Offers a device: load is (compiled spec, checkpoint folder) → a model on that device.</summary>
    public static void Register(string device, Func<PldrModelInfo, string, IPldrModel> load)
    {
        lock (Loaders) Loaders[device] = load;
    }

    /// <summary>Names a device this program knows of but cannot run, with the reason (one sentence, no device name).</summary>
    public static void RegisterUnavailable(string device, string reason)
    {
        lock (Loaders) Unavailable[device] = reason;
    }

    /// <summary>The devices this program can run: <see cref="Cpu"/> first, then every registered one.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (Loaders) return [Cpu, .. Loaders.Keys.Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>The loader of a registered device other than <see cref="Cpu"/>, or null.</summary>
    public static Func<PldrModelInfo, string, IPldrModel>? Find(string device)
    {
        lock (Loaders) return Loaders.GetValueOrDefault(device);
    }

    /// <summary>Why a device is not in this program, when it was registered as unavailable; otherwise null.</summary>
    public static string? WhyUnavailable(string device)
    {
        lock (Loaders) return Loaders.ContainsKey(device) ? null : Unavailable.GetValueOrDefault(device);
    }
}
