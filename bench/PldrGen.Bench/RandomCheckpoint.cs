using System.Globalization;
using System.Runtime.InteropServices;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Bench;

/// <summary>
/// Writes a checkpoint folder of a compiled spec's exact shape with seeded random weights (speed does not depend on
/// the values), in F32 or BF16, so benchmarks load real safetensors like a user would.
/// </summary>
static class RandomCheckpoint
{
    public static string Create(PldrModelInfo info, IReadOnlyList<TensorShape> manifest, bool bf16, int seed = 1234)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"pldrgen-bench-{info.Name}-{(bf16 ? "bf16" : "f32")}-{seed}");
        if (File.Exists(Path.Combine(directory, "model.safetensors"))) return directory;
        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        var tensors = new List<SafeTensorsWriter.Tensor>();
        foreach (var t in manifest)
        {
            int count = t.Shape.Aggregate(1, (a, b) => a * b);
            if (t.Name.EndsWith("_status", StringComparison.Ordinal))
            {
                tensors.Add(new(t.Name, "BOOL", t.Shape, Enumerable.Repeat((byte)1, count).ToArray()));
                continue;
            }
            var values = new float[count];
            bool norm = t.Name.Contains("layernorm", StringComparison.Ordinal) && t.Name.EndsWith(".weight", StringComparison.Ordinal);
            for (int i = 0; i < count; i++) values[i] = norm ? 1f : (float)(random.NextDouble() - 0.5) * 0.1f;
            tensors.Add(bf16
                ? new(t.Name, "BF16", t.Shape, MemoryMarshal.AsBytes(values.Select(BFloat16.FromFloat).ToArray().AsSpan()).ToArray())
                : SafeTensorsWriter.Float32(t.Name, t.Shape, values));
        }
        SafeTensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(directory, "config.json"), ConfigJson(info.Config));
        return directory;
    }

    static string ConfigJson(PldrConfig c)
    {
        var fields = c.Fields().Select(f => $"  \"{f.Name}\": {(f.Value is "true" or "false" or "null" || double.TryParse(f.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? f.Value : $"\"{f.Value}\"")}");
        return "{\n  \"model_type\": \"pldrllm\",\n" + string.Join(",\n", fields) + "\n}\n";
    }
}
