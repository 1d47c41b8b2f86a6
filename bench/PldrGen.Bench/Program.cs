using BenchmarkDotNet.Running;
using PldrGen.Bench;

// dotnet run -c Release --project bench/PldrGen.Bench              → the interleaved ratio report (under 10 minutes)
// dotnet run -c Release --project bench/PldrGen.Bench -- vs-llama [rounds]   → beside llama.cpp, fresh processes (~10 minutes)
// dotnet run -c Release --project bench/PldrGen.Bench -- bdn [--filter *Decode*]   → the BenchmarkDotNet suites
// … -- kernels [1] [f32|bf16|f16|int8 …] → matrix products by precision; … -- decode [f32|bf16|f16|int8] → where a decode step goes
// … -- batch-step [rounds] [f32|bf16|f16|int8] → the batched decode step at 1 and 16 rows, interleaved
// … -- sampling [rounds] → what top-p adds to a decode step; … -- engine [rounds] → the engine at 1, 4, 16, 64 sequences
// … -- vs-llama-batched [rounds] [SAVE.txt] [f32|bf16|int8 …] → the engine beside llama.cpp's BatchedExecutor at 1, 4, 16, 64 sequences
// … -- serve [rounds] → pldr serve on the 110M shape under 16 concurrent streaming clients, beside the engine called directly
if (args.Length > 0 && args[0] == "bdn")
{
    BenchmarkSwitcher.FromAssembly(typeof(RatioReport).Assembly).Run(args[1..]);
    return 0;
}
if (args.Length > 0 && args[0] == "vs-llama") return VsLlamaCpp.Run(args[1..]);
if (args.Length > 0 && args[0] == "vs-llama-child") return VsLlamaCpp.RunChild(args[1..]);
if (args.Length > 0 && args[0] == "vs-llama-batched") return VsLlamaBatched.Run(args[1..]);
if (args.Length > 0 && args[0] == "vs-llama-batched-child") return VsLlamaBatched.RunChild(args[1..]);
if (args.Length > 0 && args[0] == "kernels") return KernelProbe.Run(args[1..]);
if (args.Length > 0 && args[0] == "metric-learner") return MetricLearnerProbe.Run();
if (args.Length > 0 && args[0] == "prefill") return PrefillProbe.Run(args[1..]);
if (args.Length > 0 && args[0] == "decode") return DecodeProbe.Run(args[1..]);
if (args.Length > 0 && args[0] == "batch-step") return BatchStepProbe.Run(args[1..]);
if (args.Length > 0 && args[0] == "sampling") return SamplingBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "engine") return EngineBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "serve") return ServeBench.Run(args[1..]);
return RatioReport.Run(args);
