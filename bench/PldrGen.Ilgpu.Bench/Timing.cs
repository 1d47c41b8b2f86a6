using System.Diagnostics;
using System.Text;
using PldrGen.Ilgpu;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Ilgpu.Bench;

/// <summary>
/// The paper's 110M shape (specs/pldr-v51-110m.pldr.yaml) with random weights: prefill of a prompt and greedy
/// decode timed on a device and with the CPU model, both loaded from the same checkpoint through the normal
/// loaders. Prints how far the two paths' logits are apart, then a table.
/// </summary>
static class Timing
{
    internal const int Repeats = 3;

    /// <summary>The timed spec: the paper's 110M shape, or the tiny fixture shape for a quick run of this program itself.</summary>
    internal sealed record Spec(string Title, PldrModelInfo Info, IReadOnlyList<TensorShape> Manifest);

    internal static Spec Find(string name) => name switch
    {
        "110m" => new("PLDR-LLM v51-110M", PldrV51_110M.ModelInfo, PldrV51_110M.TensorManifest),
        "tiny" => new("tiny-v510", TinyV510.ModelInfo, TinyV510.TensorManifest),
        _ => throw new PldrException($"unknown spec {name}; use 110m or tiny"),
    };

    public static int Run(string deviceName, int promptLength, int decodeSteps, string specName)
    {
        var spec = Find(specName);
        var config = spec.Info.Config;
        if (promptLength < 1 || promptLength + decodeSteps + 1 > config.MaxPositionEmbeddings)
            throw new PldrException($"prompt {promptLength} + decode {decodeSteps} tokens must fit the {config.MaxPositionEmbeddings} positions");
        var folder = Directory.CreateTempSubdirectory("pldrgen-110m-");
        try
        {
            var watch = Stopwatch.StartNew();
            WriteRandomCheckpoint(spec, folder.FullName, seed: 1);
            Console.WriteLine($"random {spec.Title} checkpoint written in {watch.Elapsed.TotalSeconds:F1} s");
            var prompt = new Random(2).GetItems(Enumerable.Range(4, config.VocabSize - 4).ToArray(), promptLength);

            watch.Restart();
            var device = IlgpuDevices.Load(spec.Info, folder.FullName, deviceName);
            Console.WriteLine($"loaded on {deviceName} in {watch.Elapsed.TotalSeconds:F1} s ({((IlgpuModelBase)device).Memory.Bytes / (1 << 20)} MiB on the device)");
            var cpu = spec.Info.Load(folder.FullName);
            try
            {
                var deviceRun = Measure(device, prompt, decodeSteps);
                var cpuRun = Measure(cpu, prompt, decodeSteps);
                double difference = MaxAbs(cpuRun.PrefillLogits, deviceRun.PrefillLogits);
                int agree = 0;
                while (agree < decodeSteps && cpuRun.Tokens[agree] == deviceRun.Tokens[agree]) agree++;
                Console.WriteLine($"prefill logits, {deviceName} vs CPU: max abs difference {difference:E2} (largest |logit| {cpuRun.PrefillLogits.Max(Math.Abs):F2}); " +
                    $"greedy tokens agree for the first {agree} of {decodeSteps} steps");
                var device0 = ((IlgpuModelBase)device).Accelerator;
                Console.WriteLine();
                Console.WriteLine($"{spec.Title} (random weights), float32, prompt {promptLength} tokens, {decodeSteps} decode steps with KV- and G-cache, median of {Repeats}");
                Console.WriteLine($"| path | device | prefill {promptLength} tokens | decode {decodeSteps} tokens |");
                Console.WriteLine("| --- | --- | --- | --- |");
                Console.WriteLine($"| CPU model | {Environment.ProcessorCount} CPU threads | {Row(cpuRun.PrefillSeconds, promptLength)} | {Row(cpuRun.DecodeSeconds, decodeSteps)} |");
                Console.WriteLine($"| ILGPU {deviceName} | {device0.Name} | {Row(deviceRun.PrefillSeconds, promptLength)} | {Row(deviceRun.DecodeSeconds, decodeSteps)} |");
                Console.WriteLine($"| speed-up | | {cpuRun.PrefillSeconds / deviceRun.PrefillSeconds:F1}× | {cpuRun.DecodeSeconds / deviceRun.DecodeSeconds:F1}× |");
            }
            finally { ((IDisposable)device).Dispose(); }
            return 0;
        }
        finally { folder.Delete(recursive: true); }
    }

    sealed record Result(double PrefillSeconds, double DecodeSeconds, float[] PrefillLogits, int[] Tokens);

    /// <summary>Warms up (kernel compilation), then the median of <see cref="Repeats"/> prefills and greedy decodes.</summary>
    static Result Measure(IPldrModel model, int[] prompt, int steps)
    {
        model.Prefill(prompt.AsSpan(0, Math.Min(8, prompt.Length)));
        model.Decode(prompt[0]);
        var prefill = new double[Repeats];
        var decode = new double[Repeats];
        float[] logits = [];
        var tokens = new int[steps];
        for (int r = 0; r < Repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            var row = model.Prefill(prompt);
            prefill[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            logits = row.ToArray();
            start = Stopwatch.GetTimestamp();
            for (int step = 0; step < steps; step++)
            {
                tokens[step] = FixtureCheck.ArgMax(row);
                row = model.Decode(tokens[step]);
            }
            decode[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return new Result(Median(prefill), Median(decode), logits, tokens);
    }

    static string Row(double seconds, int tokens) => $"{seconds * 1000:F1} ms ({tokens / seconds:F0} tok/s)";

    internal static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    static double MaxAbs(float[] a, float[] b)
    {
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs((double)a[i] - b[i]));
        return worst;
    }

    /// <summary>config.json and model.safetensors of the spec's exact shape, weights scaled like an initialised model.</summary>
    internal static void WriteRandomCheckpoint(Spec spec, string folder, int seed)
    {
        var json = new StringBuilder("{\n  \"model_type\": \"pldrllm\"");
        foreach (var (name, value) in spec.Info.Config.Fields())
            json.Append($",\n  \"{name}\": {(name == "custom_G_type" && value != "null" ? $"\"{value}\"" : value)}");
        File.WriteAllText(Path.Combine(folder, "config.json"), json.Append("\n}\n").ToString());

        var random = new Random(seed);
        var tensors = spec.Manifest.Select(t =>
        {
            var values = new float[t.Shape.Aggregate(1, (a, b) => a * b)];
            var (low, high) = Range(t.Name, t.Shape);
            for (int i = 0; i < values.Length; i++) values[i] = low + (high - low) * random.NextSingle();
            return SafeTensorsWriter.Float32(t.Name, t.Shape, values);
        });
        SafeTensorsWriter.Write(Path.Combine(folder, "model.safetensors"), tensors);
    }

    /// <summary>Norms start at weight 1, bias 0; biases are small; exponents stay near 1 so A_LM^pw stays finite.</summary>
    static (float Low, float High) Range(string name, int[] shape)
    {
        if (name.Contains("layernorm", StringComparison.Ordinal)) return name.EndsWith(".weight", StringComparison.Ordinal) ? (1f, 1f) : (0f, 0f);
        if (name.EndsWith("pwlst", StringComparison.Ordinal)) return (0.5f, 1.5f);
        if (name.EndsWith(".bias", StringComparison.Ordinal) || name.EndsWith("blst", StringComparison.Ordinal) || name.EndsWith("balst", StringComparison.Ordinal)) return (-0.02f, 0.02f);
        if (name == "decoder.embedding.weight") return (-1f, 1f);
        float scale = 1f / MathF.Sqrt(shape[^1]);
        return (-scale, scale);
    }
}
