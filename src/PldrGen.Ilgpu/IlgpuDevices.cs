using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using PldrGen.Runtime;

namespace PldrGen.Ilgpu;

/// <summary>
/// Opens an ILGPU accelerator by its <c>--device</c> name and loads a compiled spec's ILGPU model on it.
/// Every absent device is a <see cref="PldrException"/> that says what was looked for and why it was not found.
/// </summary>
public static class IlgpuDevices
{
    /// <summary>ILGPU's CPU accelerator: it simulates a GPU with threads; slow, but runs every kernel anywhere (tests).</summary>
    public const string Cpu = "ilgpu-cpu";
    /// <summary>The first CUDA device.</summary>
    public const string Cuda = "cuda";
    /// <summary>The first OpenCL device with generic address space support (ILGPU needs OpenCL 2.0's generic pointers).</summary>
    public const string OpenCl = "opencl";

    public static IReadOnlyList<string> Names { get; } = [Cpu, Cuda, OpenCl];

    static IlgpuDevices()
    {
        // ILGPU imports "cuda" and "OpenCL", which .NET probes as libcuda.so / libOpenCL.so: the unversioned names
        // that only development packages install. Driver-only machines (containers with the NVIDIA driver mounted)
        // have just libcuda.so.1, so fall back to the versioned names. ILGPU sets its own resolver under WSL only.
        if (!OperatingSystem.IsLinux() || Directory.Exists("/usr/lib/wsl/lib")) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, static (name, _, _) => name switch
            {
                "cuda" => LoadFirst("libcuda.so", "libcuda.so.1"),
                "OpenCL" => LoadFirst("libOpenCL.so", "libOpenCL.so.1"),
                _ => IntPtr.Zero,
            });
        }
        catch (InvalidOperationException)
        {
            // The application already resolves ILGPU's native libraries itself.
        }
    }

    static IntPtr LoadFirst(params string[] names)
    {
        foreach (var name in names)
            if (NativeLibrary.TryLoad(name, out var handle)) return handle;
        return IntPtr.Zero;
    }

    /// <summary>Opens the named device; the caller disposes it.</summary>
    public static IlgpuDevice Open(string device) => device switch
    {
        Cpu => OpenCpu(FastCpu),
        Cuda => Create(device, static b => b.Cuda(static _ => true), static (context, what) => context.CreateCudaAccelerator(FirstCudaDevice(context, what))),
        OpenCl => Create(device, static b => b.OpenCL(static _ => true), static (context, what) => FirstOpenClDevice(context, what).CreateCLAccelerator(context)),
        _ => throw new PldrException($"--device {device}: unknown device; use {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// The CPU accelerator runs each thread of a group on its own OS thread and meets at every barrier; groups of two
    /// threads, one multiprocessor per core, are several times faster here than ILGPU's default of 16-thread groups.
    /// </summary>
    public static CPUDevice FastCpu { get; } = new(numThreadsPerWarp: 2, numWarpsPerMultiprocessor: 1, numMultiprocessors: Environment.ProcessorCount);

    /// <summary>Opens ILGPU's CPU accelerator with a chosen thread layout (<see cref="CPUDevice.Default"/>: 16-thread groups).</summary>
    public static IlgpuDevice OpenCpu(CPUDevice device) =>
        Create(Cpu, b => b.CPU(device), static (context, _) => context.CreateCPUAccelerator(0));

    /// <summary>
    /// Loads the ILGPU model of a compiled spec from a checkpoint folder onto a device it opens; disposing the
    /// model releases the device. The spec's assembly must reference PldrGen.Ilgpu (then its generated module
    /// initializer has registered the ILGPU loader in <see cref="IlgpuModelCatalog"/>).
    /// </summary>
    public static IPldrModel Load(PldrModelInfo info, string directory, string device)
    {
        var load = IlgpuModelCatalog.Find(info.TypeName);
        var opened = Open(device);
        try
        {
            var model = load(directory, opened.Accelerator);
            ((IlgpuModelBase)model).OwnDevice(opened);
            return model;
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    static IlgpuDevice Create(string name, Action<Context.Builder> devices, Func<Context, string, Accelerator> open)
    {
        // Algorithms supply float exp/log/pow for PTX and OpenCL (without them ILGPU asks for CUDA's libdevice).
        var context = Context.Create(builder => devices(builder.EnableAlgorithms()));
        try
        {
            return new IlgpuDevice(name, context, open(context, "--device " + name));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    static int FirstCudaDevice(Context context, string what)
    {
        var devices = context.GetCudaDevices();
        if (devices.Count == 0)
            throw new PldrException($"{what}: no CUDA device found ({(CanLoad(["libcuda.so", "libcuda.so.1"], "nvcuda.dll") ? "the NVIDIA driver reports none" : "the NVIDIA driver library libcuda.so.1 could not be loaded")})");
        for (int i = 0; i < devices.Count; i++)
            if (devices[i].InstructionSet.HasValue) return i;
        var first = devices[0];
        throw new PldrException($"{what}: no CUDA device found that ILGPU {typeof(Context).Assembly.GetName().Version} can target " +
            $"({first.Name}: compute capability {first.Architecture}, driver {first.DriverVersion}, no supported PTX instruction set)");
    }

    static CLDevice FirstOpenClDevice(Context context, string what)
    {
        var devices = context.GetCLDevices();
        if (devices.Count == 0)
            throw new PldrException($"{what}: no OpenCL device found ({(CanLoad(["libOpenCL.so", "libOpenCL.so.1"], "OpenCL.dll") ? "no OpenCL platform reports a device" : "the OpenCL loader libOpenCL.so.1 could not be loaded; on Debian install ocl-icd-libopencl1 and a driver")})");
        var found = new List<string>();
        foreach (var device in devices)
        {
            if (device.Capabilities.GenericAddressSpace && device.CLStdVersion >= CLBackend.MinimumVersion) return device;
            found.Add($"{device.Name}, OpenCL C {device.CLStdVersion}");
        }
        throw new PldrException($"{what}: no OpenCL device with generic address space support found (ILGPU needs it; found {string.Join("; ", found)})");
    }

    static bool CanLoad(string[] linuxNames, string windowsName)
    {
        var handle = OperatingSystem.IsWindows() ? (NativeLibrary.TryLoad(windowsName, out var h) ? h : IntPtr.Zero) : LoadFirst(linuxNames);
        if (handle == IntPtr.Zero) return false;
        NativeLibrary.Free(handle);
        return true;
    }
}
