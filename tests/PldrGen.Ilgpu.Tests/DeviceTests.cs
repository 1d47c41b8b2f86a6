using System.Runtime.InteropServices;
using ILGPU.Runtime;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Tests;
using Xunit;

namespace PldrGen.Ilgpu.Tests;

/// <summary>Device selection, its errors, the catalog factory, and the refusals of a device model.</summary>
[Collection(DeviceCollection.Name)]
public sealed class DeviceTests(TestDevice device)
{
    [Fact]
    public void An_unknown_device_is_refused_with_the_known_names()
    {
        var error = Assert.Throws<PldrException>(() => IlgpuDevices.Open("vulkan"));
        Assert.Equal("--device vulkan: unknown device; use ilgpu-cpu, cuda, opencl", error.Message);
    }

    [Fact]
    public void The_cpu_accelerator_always_opens()
    {
        using var cpu = IlgpuDevices.Open(IlgpuDevices.Cpu);
        Assert.Equal(AcceleratorType.CPU, cpu.Accelerator.AcceleratorType);
        Assert.StartsWith("ilgpu-cpu: ", cpu.ToString());
    }

    [Fact]
    public void Cuda_without_a_driver_says_so()
    {
        if (CanLoad("libcuda.so.1") || CanLoad("libcuda.so")) return; // a driver is installed: the GPU run (PLDRGEN_TEST_DEVICE=cuda) covers this device
        var error = Assert.Throws<PldrException>(() => IlgpuDevices.Open(IlgpuDevices.Cuda));
        Assert.Equal("--device cuda: no CUDA device found (the NVIDIA driver library libcuda.so.1 could not be loaded)", error.Message);
    }

    [Fact]
    public void OpenCl_without_a_loader_says_so()
    {
        if (CanLoad("libOpenCL.so.1") || CanLoad("libOpenCL.so")) return; // an OpenCL loader is installed: what it finds depends on the machine
        var error = Assert.Throws<PldrException>(() => IlgpuDevices.Open(IlgpuDevices.OpenCl));
        Assert.StartsWith("--device opencl: no OpenCL device found (the OpenCL loader libOpenCL.so.1 could not be loaded", error.Message);
    }

    [Fact]
    public void Loading_on_an_absent_device_fails_before_reading_weights()
    {
        var error = Assert.Throws<PldrException>(() => IlgpuDevices.Load(TinyV510.ModelInfo, "/nonexistent", "vulkan"));
        Assert.StartsWith("--device vulkan", error.Message);
    }

    [Fact]
    public void The_factory_finds_the_generated_ilgpu_model_of_a_spec()
    {
        var model = IlgpuDevices.Load(TinyV510.ModelInfo, Fixtures.ModelDir("tiny-v510"), IlgpuDevices.Cpu);
        try
        {
            Assert.IsType<TinyV510Ilgpu>(model);
            Assert.Same(TinyV510.ModelInfo, model.Info);
            Assert.Equal(TinyV510.VocabSize, model.Prefill([1, 2, 3]).Length);
            Assert.Contains("PldrGen.Models.PldrV51_110M", IlgpuModelCatalog.TypeNames);
        }
        finally { ((IDisposable)model).Dispose(); }
    }

    [Fact]
    public void A_spec_without_an_ilgpu_model_is_refused()
    {
        var info = TinyV510.ModelInfo with { TypeName = "Elsewhere.SomeModel" };
        var error = Assert.Throws<PldrException>(() => IlgpuDevices.Load(info, Fixtures.ModelDir("tiny-v510"), IlgpuDevices.Cpu));
        Assert.Equal("Elsewhere.SomeModel has no ILGPU model: the assembly that compiles its spec must reference PldrGen.Ilgpu", error.Message);
    }

    [Fact]
    public void A_checkpoint_of_another_shape_is_refused_like_on_the_cpu()
    {
        var error = Assert.Throws<PldrException>(() => OddV510Ilgpu.Load(Fixtures.ModelDir("tiny-v510"), device.Accelerator));
        Assert.Contains("does not match the compiled spec OddV510", error.Message);
    }

    [Fact]
    public void Bad_input_is_refused_like_on_the_cpu()
    {
        using var model = TinyV510Ilgpu.Load(Fixtures.ModelDir("tiny-v510"), device.Accelerator);
        Assert.Throws<InvalidOperationException>(() => model.Decode(1));
        Assert.Contains("outside the vocabulary of TinyV510", Assert.Throws<PldrException>(() => model.Prefill([1, 256])).Message);
        Assert.Contains("the prompt is empty", Assert.Throws<PldrException>(() => model.Prefill([])).Message);
        Assert.Contains("more than the 64 positions", Assert.Throws<PldrException>(() => model.Prefill(new int[65])).Message);
        Assert.Throws<ArgumentException>(() => model.Prefill([1, 2], new float[10]));
        Assert.Contains("does not fit this model", Assert.Throws<PldrException>(() => model.InjectGCache(new GCache(3, 4, 16))).Message);
        model.Prefill([1, 2]);
        Assert.Contains("outside the vocabulary", Assert.Throws<PldrException>(() => model.Decode(-1)).Message);
    }

    static bool CanLoad(string library)
    {
        if (!NativeLibrary.TryLoad(library, out var handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    }
}
