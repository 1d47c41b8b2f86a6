// pldrgen-gpu-check: what bench/gpu-check.sh runs on a GPU machine.
//   fixtures [device]      the fixture models on the device against the authors' fixtures, every cache mode
//   timing [device] [prompt] [decode] [110m|tiny]   a spec with random weights (default the paper's 110M): prefill
//                          and greedy decode timed on the device and with the CPU model
//   batched [device] [prompt] [decode] [110m|tiny] [slots, e.g. 1,4,16]   the batched decode step of S slots over one
//                          model timed on the device, slot 0 checked bit for bit against the same sequence alone
using PldrGen.Ilgpu.Bench;

string command = args.Length > 0 ? args[0] : "";
string device = args.Length > 1 ? args[1] : PldrGen.Ilgpu.IlgpuDevices.Cuda;
try
{
    return command switch
    {
        "fixtures" => FixtureCheck.Run(device),
        "timing" => Timing.Run(device, args.Length > 2 ? int.Parse(args[2]) : 128, args.Length > 3 ? int.Parse(args[3]) : 64, args.Length > 4 ? args[4] : "110m"),
        "batched" => BatchedTiming.Run(device, args.Length > 2 ? int.Parse(args[2]) : 128, args.Length > 3 ? int.Parse(args[3]) : 64, args.Length > 4 ? args[4] : "110m",
            args.Length > 5 ? [.. args[5].Split(',').Select(int.Parse)] : [1, 4, 16]),
        _ => Usage(),
    };
}
catch (PldrGen.Runtime.PldrException e)
{
    Console.Error.WriteLine($"pldrgen-gpu-check: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: pldrgen-gpu-check fixtures [device] | timing [device] [prompt tokens] [decode tokens] [110m|tiny] | batched [device] [prompt tokens] [decode tokens] [110m|tiny] [slots,…]   (device: cuda, opencl, ilgpu-cpu)");
    return 64;
}
