using System.Text.RegularExpressions;

namespace PldrGen.Runtime.Checkpoints.Torch;

/// <summary>
/// The authors' <c>.pth</c> checkpoints (and predefined G_LM pickles) as a Hugging Face folder: config.json and
/// model.safetensors with the checkpoint's tensor names, which are already the Hugging Face ones.
/// </summary>
public static partial class PthConverter
{
    public sealed record Result(int Tensors, long Parameters);

    /// <summary>
    /// Writes <paramref name="directory"/>/config.json and model.safetensors from a checkpoint and, for custom-G
    /// models, its G_LM pickle; <paramref name="progress"/> is told after each tensor is read from the checkpoint.
    /// </summary>
    public static Result Convert(string pthPath, string? gPicklePath, PldrConfig config, string directory, IProgress<CheckpointProgress>? progress = null)
    {
        using var pth = TorchFile.Open(pthPath);
        var stateDict = pth.StateDict();
        CheckShape(pthPath, stateDict, config);

        long total = stateDict.Sum(t => t.Tensor.ElementCount * t.Tensor.Storage.Type.ElementSize), done = 0; // views are under 2 GB each
        var tensors = stateDict.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t =>
        {
            var tensor = Tensor(pthPath, t.Name, t.Tensor);
            progress?.Report(new CheckpointProgress(done += tensor.Data.Length, total));
            return tensor;
        }).ToList();
        bool hasG = stateDict.Any(t => t.Name == "decoder.past_G_values");
        if (gPicklePath is not null)
        {
            if (config.LearnedG) throw new PldrException($"{gPicklePath}: --g-pickle gives the G of a custom-G (v510G) model, but the config has no custom_G_type; to use it as a G-cache, run 'pldr convert --g-pickle {gPicklePath} --out G.safetensors'");
            if (hasG) throw new PldrException($"{pthPath}: already holds decoder.past_G_values; drop --g-pickle");
            tensors.AddRange(PastGValues(gPicklePath, config));
        }
        else if (!config.LearnedG && !hasG)
            throw new PldrException($"{pthPath}: a custom_G_type '{config.CustomGType}' model keeps its G outside the checkpoint; give it with --g-pickle FILE.pkl");

        Directory.CreateDirectory(directory);
        AuthorsHyperparameters.WriteConfigJson(config, Path.Combine(directory, "config.json"));
        SafeTensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors,
            new Dictionary<string, string> { ["format"] = "pt", ["converted_from"] = Path.GetFileName(pthPath) });
        return new Result(tensors.Count, stateDict.Sum(t => t.Tensor.ElementCount));
    }

    /// <summary>A predefined G_LM pickle as a G-cache file (for <c>pldr generate --g-cache</c>).</summary>
    public static GCache ConvertGPickle(string gPicklePath, string output)
    {
        using var file = TorchFile.Open(gPicklePath);
        var cache = file.PredefinedG();
        cache.Save(output, new Dictionary<string, string> { ["converted_from"] = Path.GetFileName(gPicklePath) });
        return cache;
    }

    // The checks the config makes possible before anything is written; the compiled spec checks every tensor on load.
    static void CheckShape(string path, IReadOnlyList<(string Name, TorchTensor Tensor)> stateDict, PldrConfig config)
    {
        var embedding = stateDict.FirstOrDefault(t => t.Name == "decoder.embedding.weight").Tensor
            ?? throw new PldrException($"{path}: tensor 'decoder.embedding.weight' is missing: not a PLDR-LLM checkpoint");
        int[] expected = [config.VocabSize, config.HiddenSize];
        if (!embedding.Shape.SequenceEqual(expected))
            throw new PldrException($"{path}: tensor 'decoder.embedding.weight' is {embedding.ShapeText}, the config gives [{config.VocabSize}, {config.HiddenSize}] (vocab_size, hidden_size)");
        int layers = stateDict.Select(t => LayerIndex().Match(t.Name)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value) + 1).DefaultIfEmpty(0).Max();
        if (layers != config.NumHiddenLayers)
            throw new PldrException($"{path}: the checkpoint has {layers} decoder layers, the config gives num_hidden_layers {config.NumHiddenLayers}");
    }

    static SafeTensorsWriter.Tensor Tensor(string path, string name, TorchTensor tensor)
    {
        string dtype = tensor.Storage.Type.DType switch
        {
            TensorDType.F32 => "F32", TensorDType.F16 => "F16", TensorDType.BF16 => "BF16", TensorDType.Bool => "BOOL",
            _ => throw new PldrException($"{path}: tensor '{name}' is a {tensor.Storage.Type.Name}, expected float32, float16 or bfloat16"),
        };
        return new(name, dtype, tensor.Shape, tensor.RowMajorBytes($"{path}: tensor '{name}'"));
    }

    // decoder.past_G_values [L, 3, 1, H, dk, dk] as the Hugging Face port lays it out: entry 2 is G_LM, A and A_LM zero.
    static IEnumerable<SafeTensorsWriter.Tensor> PastGValues(string gPicklePath, PldrConfig config)
    {
        using var file = TorchFile.Open(gPicklePath);
        var g = file.PredefinedG();
        g.EnsureShape(config.NumHiddenLayers, config.NumAttentionHeads, config.HeadDim, gPicklePath);
        var past = new float[g.Layers * 3 * g.LayerSize];
        for (int l = 0; l < g.Layers; l++) g.LayerG(l).CopyTo(past.AsSpan((l * 3 + 2) * g.LayerSize, g.LayerSize));
        yield return SafeTensorsWriter.Float32("decoder.past_G_values", [g.Layers, 3, 1, g.Heads, g.HeadDim, g.HeadDim], past);
        var status = new byte[g.Layers];
        status.AsSpan().Fill(1);
        yield return new("decoder.past_G_values_status", "BOOL", [g.Layers], status);
    }

    [GeneratedRegex(@"^decoder\.dec_layers\.(\d{1,6})\.")]
    private static partial Regex LayerIndex();
}
