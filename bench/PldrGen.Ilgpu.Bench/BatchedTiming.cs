using System.Diagnostics;
using PldrGen.Runtime;
using PldrGen.Runtime.Engine;

namespace PldrGen.Ilgpu.Bench;

/// <summary>
/// The batched decode step on a device: S slots over one ILGPU model of a spec with random weights, each prefilled
/// with its own prompt, then greedy steps advancing all S at once (every kernel launched once per step). Prints per
/// S the step time, aggregate and per-sequence tokens/s, the ratio to S = 1, and whether slot 0's logits are bit for
/// bit those of the same sequence decoded alone on the device.
/// </summary>
static class BatchedTiming
{
    public static int Run(string deviceName, int promptLength, int decodeSteps, string specName, int[] slotCounts)
    {
        var spec = Timing.Find(specName);
        var config = spec.Info.Config;
        if (promptLength < 1 || promptLength + decodeSteps + 1 > config.MaxPositionEmbeddings)
            throw new PldrException($"prompt {promptLength} + decode {decodeSteps} tokens must fit the {config.MaxPositionEmbeddings} positions");
        if (slotCounts.Length == 0 || slotCounts.Any(s => s < 1)) throw new PldrException("slot counts must be ≥ 1, e.g. 1,4,16");
        var folder = Directory.CreateTempSubdirectory("pldrgen-batched-");
        try
        {
            Timing.WriteRandomCheckpoint(spec, folder.FullName, seed: 1);
            var model = (IlgpuModelBase)IlgpuDevices.Load(spec.Info, folder.FullName, deviceName);
            try
            {
                using var slots = model.CreateSlots(slotCounts.Max());
                var random = new Random(2);
                var prompts = Enumerable.Range(0, slotCounts.Max())
                    .Select(_ => random.GetItems(Enumerable.Range(4, config.VocabSize - 4).ToArray(), promptLength)).ToArray();
                Console.WriteLine($"{spec.Title} (random weights) on {deviceName} ({model.Accelerator.Name}), float32, prompt {promptLength} tokens each, " +
                    $"{decodeSteps} batched greedy steps, median of {Timing.Repeats}; {model.Memory.Bytes / 1048576.0:F1} MiB model, {slots.BytesPerSlot / 1048576.0:F2} MiB per slot");
                Console.WriteLine("| slots | step | aggregate decode | per sequence | vs 1 slot | launches per step | slot 0 alone, bit for bit |");
                Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
                double? single = null;
                foreach (int count in slotCounts)
                {
                    var times = new double[Timing.Repeats];
                    (float[][] Rows, int[] Tokens) first = default;
                    long launches = 0;
                    for (int r = 0; r < Timing.Repeats; r++)
                    {
                        var run = Steps(model.LayerKernels, slots, prompts, count, decodeSteps, out times[r], out launches);
                        if (r == 0) first = run;
                    }
                    double step = Timing.Median(times) / decodeSteps;
                    single ??= count / step;
                    Console.WriteLine($"| {count} | {step * 1000:F2} ms | {count / step:F0} tok/s | {1 / step:F0} tok/s | {count / step / single:F2}× | {launches} | {Alone(model, prompts[0], first)} |");
                }
            }
            finally { ((IDisposable)model).Dispose(); }
            return 0;
        }
        finally { folder.Delete(recursive: true); }
    }

    /// <summary>
    /// Prefills slots 0..count−1 (untimed), then <paramref name="steps"/> greedy batched steps (timed, launches
    /// counted per step): slot 0's logits and tokens.
    /// </summary>
    static (float[][] Rows, int[] Tokens) Steps(LayerKernels kernels, BatchedSlots slots, int[][] prompts, int count, int steps, out double seconds, out long launchesPerStep)
    {
        int vocab = slots.Info.Config.VocabSize;
        var tokens = new int[count];
        var indices = Enumerable.Range(0, count).ToArray();
        for (int s = 0; s < count; s++) tokens[s] = FixtureCheck.ArgMax(slots.Models[s].Prefill(prompts[s]));
        var logits = new float[count * vocab];
        var rows = new float[steps][];
        var slot0 = new int[steps];
        long launches = kernels.Launches, start = Stopwatch.GetTimestamp();
        for (int step = 0; step < steps; step++)
        {
            slot0[step] = tokens[0];
            slots.Step(indices, tokens, logits);
            rows[step] = logits[..vocab];
            for (int s = 0; s < count; s++) tokens[s] = FixtureCheck.ArgMax(logits.AsSpan(s * vocab, vocab));
        }
        seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        launchesPerStep = (kernels.Launches - launches) / steps;
        return (rows, slot0);
    }

    /// <summary>Slot 0's sequence decoded alone on the model: "yes", or the first step whose logits differ.</summary>
    static string Alone(IPldrModel model, int[] prompt, (float[][] Rows, int[] Tokens) batched)
    {
        model.Prefill(prompt);
        for (int step = 0; step < batched.Tokens.Length; step++)
            if (!model.Decode(batched.Tokens[step]).SequenceEqual(batched.Rows[step])) return $"no: step {step} differs";
        return "yes";
    }
}
