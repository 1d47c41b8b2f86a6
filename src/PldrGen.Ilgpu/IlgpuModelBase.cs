using ILGPU;
using ILGPU.Runtime;
using PldrGen.Runtime;

namespace PldrGen.Ilgpu;

/// <summary>
/// What every generated ILGPU model shares beyond the lifecycle of <see cref="PldrModel{TSequence}"/>: its
/// accelerator, the device memory it owns (its sequence's included), the layer-shaped kernels, and (when
/// <see cref="IlgpuDevices.Load"/> opened it) the device it must release.
/// </summary>
public abstract class IlgpuModelBase : PldrModel<IlgpuSequence>, IDisposable
{
    IlgpuDevice? _ownedDevice;

    /// <param name="info">The compiled spec.</param>
    /// <param name="accelerator">Where the model's memory and kernels live.</param>
    /// <param name="checkpointG">Custom-G models: G_LM per layer [L, H, dk, dk] from the checkpoint; otherwise null.</param>
    protected IlgpuModelBase(PldrModelInfo info, Accelerator accelerator, float[]? checkpointG)
        : this(info, accelerator, new DeviceMemory(accelerator), checkpointG)
    {
    }

    IlgpuModelBase(PldrModelInfo info, Accelerator accelerator, DeviceMemory memory, float[]? checkpointG)
        : base(info, IlgpuSequence.Allocate(memory, info.Config), checkpointG)
    {
        Accelerator = accelerator;
        Memory = memory;
        LayerKernels = LayerKernels.For(accelerator);
    }

    public Accelerator Accelerator { get; }
    public DeviceMemory Memory { get; }
    public LayerKernels LayerKernels { get; }

    /// <summary>Hands a device tensor to the probe (a copy to the host; leave the probe null for speed) when one is set.</summary>
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
