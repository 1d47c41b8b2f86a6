using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using PldrGen.Ilgpu;
using Xunit;

namespace PldrGen.Ilgpu.Tests;

/// <summary>
/// The accelerators the tests of the "device" collection share (opened once, so each kernel compiles once per
/// accelerator). ILGPU's CPU accelerator unless PLDRGEN_TEST_DEVICE names another device (cuda, opencl).
/// </summary>
public sealed class TestDevice : IDisposable
{
    public const string Variable = "PLDRGEN_TEST_DEVICE";

    public static string Name => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } name ? name : IlgpuDevices.Cpu;

    readonly IlgpuDevice _device = IlgpuDevices.Open(Name);
    // On the CPU, the fast device runs groups of 2 threads; kernel tests also run with ILGPU's 16-thread groups so the
    // shared-memory reductions and tiles meet real concurrency. On a GPU both are the GPU.
    readonly IlgpuDevice? _wide = Name == IlgpuDevices.Cpu ? IlgpuDevices.OpenCpu(CPUDevice.Default) : null;

    /// <summary>The device the models run on.</summary>
    public Accelerator Accelerator => _device.Accelerator;

    /// <summary>The accelerators every kernel test runs on.</summary>
    public IEnumerable<Accelerator> KernelAccelerators => _wide is null ? [Accelerator] : [Accelerator, _wide.Accelerator];

    public override string ToString() => _device.ToString();

    public void Dispose()
    {
        _device.Dispose();
        _wide?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class DeviceCollection : ICollectionFixture<TestDevice>
{
    public const string Name = "device";
}
