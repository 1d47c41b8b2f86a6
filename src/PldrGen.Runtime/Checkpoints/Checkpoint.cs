using PldrGen.Runtime.Kernels;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>How far reading a checkpoint has come: bytes of tensor data read (or converted) of the total.</summary>
public readonly record struct CheckpointProgress(long BytesDone, long TotalBytes);

/// <summary>A tensor the compiled spec expects, with its exact shape.</summary>
public readonly record struct TensorShape(string Name, int[] Shape)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// A Hugging Face checkpoint folder (config.json + model.safetensors) checked against a compiled spec before any
/// weight is read: the config field by field, then every tensor name, shape and dtype, and no unexpected tensor.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public SafeTensorsFile Weights { get; }
    /// <summary>Weight matrices' precision in memory; null keeps what the file stores (F64 becomes float32).</summary>
    public WeightPrecision? Precision { get; }

    readonly IProgress<CheckpointProgress>? _progress;
    readonly long _totalBytes;
    long _bytesRead;

    Checkpoint(SafeTensorsFile weights, WeightPrecision? precision, IProgress<CheckpointProgress>? progress)
    {
        Weights = weights; Precision = precision; _progress = progress;
        // The weights that loading reads; a custom-G model's BOOL status flags are checked, not read.
        _totalBytes = weights.Tensors.Values.Where(e => e.DType != TensorDType.Bool).Sum(e => e.End - e.Begin);
    }

    /// <summary>Checks the folder against the compiled spec; <paramref name="progress"/> hears of each tensor read later.</summary>
    public static Checkpoint Open(string directory, string specName, PldrConfig expected, IReadOnlyList<TensorShape> manifest,
        WeightPrecision? precision = null, IProgress<CheckpointProgress>? progress = null)
    {
        if (!System.IO.Directory.Exists(directory)) throw new PldrException($"{directory}: model folder not found");
        string configPath = Path.Combine(directory, "config.json");
        var found = PldrConfig.Load(configPath);
        if (expected.FirstDifference(found) is { } difference)
            throw new PldrException($"{configPath}: does not match the compiled spec {specName}: {difference}");
        var weights = SafeTensorsFile.Open(Path.Combine(directory, "model.safetensors"));
        try
        {
            Verify(weights, specName, manifest);
            return new Checkpoint(weights, precision, progress);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    static void Verify(SafeTensorsFile weights, string specName, IReadOnlyList<TensorShape> manifest)
    {
        var expectedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in manifest)
        {
            expectedNames.Add(tensor.Name);
            if (!weights.Tensors.TryGetValue(tensor.Name, out var entry))
                throw new PldrException($"{weights.Path}: tensor '{tensor.Name}' {tensor.ShapeText} required by {specName} is missing");
            if (!entry.Shape.SequenceEqual(tensor.Shape))
                throw new PldrException($"{weights.Path}: tensor '{tensor.Name}' has shape {entry.ShapeText}, {specName} expects {tensor.ShapeText}");
            bool isStatus = tensor.Name.EndsWith("_status", StringComparison.Ordinal);
            bool floating = entry.DType is TensorDType.F32 or TensorDType.F16 or TensorDType.BF16;
            if (isStatus ? entry.DType != TensorDType.Bool : !floating)
                throw new PldrException($"{weights.Path}: tensor '{tensor.Name}' is {entry.DType}, expected {(isStatus ? "BOOL" : "F32, F16 or BF16")}");
        }
        foreach (var name in weights.Tensors.Keys.Order(StringComparer.Ordinal))
            if (!expectedNames.Contains(name))
                throw new PldrException($"{weights.Path}: unexpected tensor '{name}': this checkpoint is not the shape of {specName}");
    }

    public float[] Read(string name)
    {
        var values = Weights.ReadFloat32(name);
        Advance(Weights.Entry(name));
        return values;
    }

    public LinearWeights Linear(string prefix, int outDim, int inDim, bool bias) =>
        new(Matrix(prefix + PldrTensors.Weight, outDim, inDim), bias ? Read(prefix + PldrTensors.Bias) : null);

    /// <summary>
    /// A weight matrix at the asked precision; without one, bfloat16 and float16 stay as they are (widening and
    /// narrowing again is exact) and the rest is float32. Packed a few panels at a time straight from the file, so loading holds the
    /// packed form and one small chunk, never a float32 copy of the tensor.
    /// </summary>
    public WeightMatrix Matrix(string name, int rows, int cols)
    {
        var entry = Weights.Entry(name);
        var precision = Precision ?? entry.DType switch
        {
            TensorDType.BF16 => WeightPrecision.BFloat16,
            TensorDType.F16 => WeightPrecision.Float16,
            _ => WeightPrecision.Float32,
        };
        var matrix = WeightMatrix.Allocate(rows, cols, precision);
        int chunkRows = Math.Min(rows, ChunkPanels * WeightMatrix.PanelWidth);
        var chunk = new float[(long)chunkRows * cols];
        for (int r = 0; r < rows; r += chunkRows)
        {
            var values = chunk.AsSpan(0, Math.Min(chunkRows, rows - r) * cols);
            Weights.ReadFloat32(entry, (long)r * cols, values);
            try
            {
                matrix.PackRows(r, values);
            }
            catch (PldrException e)
            {
                throw new PldrException($"{Weights.Path}: tensor '{name}': {e.Message}");
            }
        }
        Advance(entry);
        return matrix;
    }

    void Advance(TensorEntry entry)
    {
        _bytesRead += entry.End - entry.Begin;
        _progress?.Report(new CheckpointProgress(_bytesRead, _totalBytes));
    }

    /// <summary>Panels read and packed at a time: big enough for few reads, small beside any real tensor.</summary>
    const int ChunkPanels = 8;

    public NormWeights Norm(string prefix) => new(Read(prefix + PldrTensors.Weight), Read(prefix + PldrTensors.Bias));

    public GluWeights Glu(string prefix, int inDim, int hidden, int outDim, bool bias) =>
        new(Linear(prefix + PldrTensors.GluW1, hidden, inDim, bias), Linear(prefix + PldrTensors.GluW2, hidden, inDim, bias),
            Linear(prefix + PldrTensors.GluW3, outDim, hidden, bias));

    /// <summary>The power-law parameters W, b, pw, a, ba, in the order of <see cref="PldrTensors.PlgaParameters"/>.</summary>
    public PlgaWeights Plga(string prefix)
    {
        var p = Array.ConvertAll(PldrTensors.PlgaParameters, name => Read(prefix + name));
        return new(p[0], p[1], p[2], p[3], p[4]);
    }

    public void Dispose() => Weights.Dispose();
}
