using System.Runtime.CompilerServices;
using PldrGen.Runtime;

namespace PldrGen.Cli;

/// <summary>
/// Compiled into the NativeAOT build only, which leaves out PldrGen.Ilgpu (ILGPU generates code at run time): names
/// the ILGPU devices the JIT build offers, so asking this binary for one says where to find it.
/// </summary>
static class NativeAotDevices
{
    [ModuleInitializer]
    internal static void RegisterJitOnlyDevices()
    {
        foreach (string device in new[] { "ilgpu-cpu", "cuda", "opencl" })
            PldrDevices.RegisterUnavailable(device,
                $"this pldr has no GPU backends; they need the JIT build (dotnet run --project src/PldrGen.Cli -- generate --device {device}), as ILGPU cannot run under NativeAOT");
    }
}
