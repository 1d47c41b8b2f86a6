using ILGPU;
using ILGPU.Runtime;

namespace PldrGen.Ilgpu;

/// <summary>An ILGPU context with the one accelerator opened on it; disposing it releases both.</summary>
public sealed class IlgpuDevice : IDisposable
{
    internal IlgpuDevice(string name, Context context, Accelerator accelerator)
    {
        Name = name;
        Context = context;
        Accelerator = accelerator;
    }

    /// <summary>The <c>--device</c> name it was opened with (ilgpu-cpu, cuda, opencl).</summary>
    public string Name { get; }
    public Context Context { get; }
    public Accelerator Accelerator { get; }

    public override string ToString() => $"{Name}: {Accelerator.Name} ({Accelerator.AcceleratorType}, {Accelerator.MemorySize / (1 << 20)} MiB)";

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
