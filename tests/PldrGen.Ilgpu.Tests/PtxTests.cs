using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using PldrGen.Models;
using Xunit;
using Xunit.Abstractions;

namespace PldrGen.Ilgpu.Tests;

/// <summary>
/// CUDA code generation without a GPU: every kernel (the shared layer kernels and each generated spec's) compiles
/// to PTX for an H100 (compute capability 9.0; ILGPU targets the lowest architecture the kernel needs, sm_80 here,
/// and the driver compiles that PTX for the card), in float32 only.
/// </summary>
public sealed class PtxTests(ITestOutputHelper output)
{
    public static TheoryData<string> KernelTypes => new(
        typeof(LayerKernels).AssemblyQualifiedName!,
        typeof(TinyV510Ilgpu.DeviceKernels).AssemblyQualifiedName!,
        typeof(OddV510Ilgpu.DeviceKernels).AssemblyQualifiedName!,
        typeof(TinyV510GExternalIlgpu.DeviceKernels).AssemblyQualifiedName!,
        typeof(PldrV51_110MIlgpu.DeviceKernels).AssemblyQualifiedName!,
        typeof(Models.RotateHalfV520Ilgpu.DeviceKernels).AssemblyQualifiedName!);

    [Theory, MemberData(nameof(KernelTypes))]
    public void Every_kernel_compiles_to_float32_ptx(string typeName)
    {
        var type = Type.GetType(typeName, throwOnError: true)!;
        var kernels = type.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(kernels);
        using var context = Context.Create(builder => builder.DefaultCPU().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, nvvmAPI: null);
        foreach (var method in kernels)
        {
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), KernelSpecialization.Empty);
            string ptx = compiled.PTXAssembly;
            Assert.Contains(".visible .entry", ptx);
            // Double math would mean a slow software routine (Math.Exp(double)) or a silent widening somewhere.
            Assert.DoesNotContain(".f64", ptx);
            output.WriteLine($"{type.Name}.{method.Name}: {ptx.Split('\n').Length} lines of PTX");
        }
    }
}
