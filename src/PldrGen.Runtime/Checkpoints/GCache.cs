using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>
/// The G-cache of one prefill: per layer the frozen metric tensor A, A_LM and the energy-curvature tensor G_LM,
/// each [layers, heads, dk, dk]. A and A_LM are absent (zero) for custom-G models and injected caches.
/// Saved as safetensors named like the fixtures (<c>layer{l}.A</c>, <c>layer{l}.A_LM</c>, <c>layer{l}.G_LM</c>).
/// </summary>
public sealed class GCache
{
    public GCache(int layers, int heads, int headDim)
    {
        long size = (long)layers * heads * headDim * headDim;
        if (layers <= 0 || heads <= 0 || headDim <= 0 || size > Array.MaxLength)
            throw new PldrException($"a G-cache of [{layers} layers, {heads} heads, {headDim}×{headDim}] is not a shape any model has");
        (Layers, Heads, HeadDim) = (layers, heads, headDim);
        A = new float[size];
        ALm = new float[size];
        G = new float[size];
    }

    public int Layers { get; }
    public int Heads { get; }
    public int HeadDim { get; }
    public int LayerSize => Heads * HeadDim * HeadDim;
    public float[] A { get; }
    public float[] ALm { get; }
    public float[] G { get; }

    public Span<float> LayerA(int l) => A.AsSpan(l * LayerSize, LayerSize);
    public Span<float> LayerALm(int l) => ALm.AsSpan(l * LayerSize, LayerSize);
    public Span<float> LayerG(int l) => G.AsSpan(l * LayerSize, LayerSize);

    public string ShapeText => $"[{Layers} layers, {Heads} heads, {HeadDim}×{HeadDim}]";

    /// <summary>Throws a clear error unless this cache fits a model of the given shape.</summary>
    public void EnsureShape(int layers, int heads, int headDim, string what)
    {
        if (layers != Layers || heads != Heads || headDim != HeadDim)
            throw new PldrException($"{what}: G-cache of shape {ShapeText} does not fit this model, which needs [{layers} layers, {heads} heads, {headDim}×{headDim}]");
    }

    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = new List<(string, int[], float[])>();
        int[] shape = [Heads, HeadDim, HeadDim];
        for (int l = 0; l < Layers; l++)
        {
            tensors.Add(($"layer{l}.A", shape, LayerA(l).ToArray()));
            tensors.Add(($"layer{l}.A_LM", shape, LayerALm(l).ToArray()));
            tensors.Add(($"layer{l}.G_LM", shape, LayerG(l).ToArray()));
        }
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["format"] = "pldrgen-gcache",
            ["layers"] = Layers.ToString(CultureInfo.InvariantCulture),
            ["heads"] = Heads.ToString(CultureInfo.InvariantCulture),
            ["head_dim"] = HeadDim.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensorsWriter.Write(path, tensors.Select(t => SafeTensorsWriter.Float32(t.Item1, t.Item2, t.Item3)), meta);
    }

    /// <summary>
    /// Loads a G-cache file: ours and the fixtures' (<c>layer{l}.G_LM</c>, optional A and A_LM), or the paper's published
    /// predefined G (one tensor <c>G_LM</c> [layers, heads, dk, dk], as in tests/fixtures/g-lm).
    /// </summary>
    public static GCache Load(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        if (!file.Contains("layer0.G_LM") && file.Contains("G_LM")) return FromStackedGLm(file);
        if (!file.Contains("layer0.G_LM")) throw new PldrException($"{path}: not a G-cache (tensor 'layer0.G_LM' is missing)");
        var shape = file.Entry("layer0.G_LM").Shape;
        if (shape.Length != 3 || shape[1] != shape[2]) throw new PldrException($"{path}: tensor 'layer0.G_LM' has shape [{string.Join(", ", shape)}], expected [heads, dk, dk]");
        int layers = 0;
        while (file.Contains($"layer{layers}.G_LM")) layers++;
        var cache = new GCache(layers, shape[0], shape[1]);
        for (int l = 0; l < layers; l++)
        {
            ReadLayer(file, $"layer{l}.G_LM", shape, cache.LayerG(l), required: true);
            ReadLayer(file, $"layer{l}.A", shape, cache.LayerA(l), required: false);
            ReadLayer(file, $"layer{l}.A_LM", shape, cache.LayerALm(l), required: false);
        }
        return cache;
    }

    static GCache FromStackedGLm(SafeTensorsFile file)
    {
        var shape = file.Entry("G_LM").Shape;
        if (shape.Length != 4 || shape[2] != shape[3])
            throw new PldrException($"{file.Path}: tensor 'G_LM' has shape [{string.Join(", ", shape)}], expected [layers, heads, dk, dk]");
        var cache = new GCache(shape[0], shape[1], shape[2]);
        file.ReadFloat32("G_LM", cache.G);
        return cache;
    }

    static void ReadLayer(SafeTensorsFile file, string name, int[] shape, Span<float> destination, bool required)
    {
        if (!file.Contains(name) && !required) return;
        var found = file.Entry(name).Shape;
        if (!found.SequenceEqual(shape))
            throw new PldrException($"{file.Path}: tensor '{name}' has shape [{string.Join(", ", found)}], expected [{string.Join(", ", shape)}]");
        file.ReadFloat32(name, destination);
    }
}
