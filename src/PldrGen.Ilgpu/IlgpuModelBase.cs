using ILGPU;
using ILGPU.Runtime;
using PldrGen.Runtime;

namespace PldrGen.Ilgpu;

/// <summary>
/// What every generated ILGPU model shares: its accelerator, the device memory it owns, the layer-shaped kernels,
/// the probe, and (when <see cref="IlgpuDevices.Load"/> opened it) the device it must release.
/// </summary>
public abstract class IlgpuModelBase : IDisposable
{
    IlgpuDevice? _ownedDevice;

    protected IlgpuModelBase(Accelerator accelerator)
    {
        Accelerator = accelerator;
        Memory = new DeviceMemory(accelerator);
        LayerKernels = LayerKernels.For(accelerator);
    }

    public Accelerator Accelerator { get; }
    public DeviceMemory Memory { get; }
    public LayerKernels LayerKernels { get; }

    /// <summary>Sees named intermediates; each call copies the tensor to the host, so leave it null for speed.</summary>
    public TensorProbe? Probe { get; set; }

    public bool UseKvCache { get; set; } = true;
    public bool UseGCache { get; set; } = true;

    /// <summary>Hands a device tensor to <see cref="Probe"/> (a copy to the host) when one is set.</summary>
    protected void Report(string name, int layer, ArrayView<float> values)
    {
        if (Probe is not { } probe) return;
        var host = new float[values.Length];
        DeviceMemory.Read(values, host);
        probe(name, layer, host);
    }

    internal void OwnDevice(IlgpuDevice device) => _ownedDevice = device;

    public void Dispose()
    {
        Memory.Dispose();
        _ownedDevice?.Dispose();
        _ownedDevice = null;
        GC.SuppressFinalize(this);
    }
}
