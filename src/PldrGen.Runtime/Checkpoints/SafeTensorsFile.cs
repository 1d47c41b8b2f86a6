using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>Element types a safetensors file may store that PldrGen reads.</summary>
public enum TensorDType { F32, F16, BF16, F64, I32, I64, Bool }

/// <summary>One tensor's entry in a safetensors header: type, shape and byte range inside the data section.</summary>
public sealed record TensorEntry(string Name, TensorDType DType, int[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// A memory-mapped safetensors file (8-byte little-endian header length, JSON header, raw data).
/// Every header field is checked against the file before any byte is read, so a truncated or lying
/// file is refused with a message that names the file and the tensor.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    const long MaxHeaderBytes = 100L << 20;

    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly byte* _data;
    readonly long _dataLength;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafeTensorsFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* data, long dataLength,
        Dictionary<string, TensorEntry> tensors, Dictionary<string, string> metadata)
    {
        Path = path; _map = map; _view = view; _data = data; _dataLength = dataLength;
        Tensors = tensors; Metadata = metadata;
    }

    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new PldrException($"{path}: file not found");
        // A symbolic link (a Hub cache snapshot links to its blob) has the length of the file it points to.
        var file = new FileInfo(path);
        long fileLength = (file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file).Length;
        if (fileLength < 8) throw new PldrException($"{path}: not a safetensors file ({fileLength} bytes, the 8-byte header length is missing)");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* basePtr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        basePtr += view.PointerOffset;
        try
        {
            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(basePtr, 8));
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > fileLength)
                throw new PldrException($"{path}: header length {headerLength} does not fit a file of {fileLength} bytes (truncated or not a safetensors file)");
            var header = new ReadOnlySpan<byte>(basePtr + 8, (int)headerLength);
            long dataLength = fileLength - 8 - headerLength;
            var (tensors, metadata) = ParseHeader(path, header, dataLength);
            return new SafeTensorsFile(path, map, view, basePtr + 8 + headerLength, dataLength, tensors, metadata);
        }
        catch
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose(); map.Dispose();
            throw;
        }
    }

    static (Dictionary<string, TensorEntry>, Dictionary<string, string>) ParseHeader(string path, ReadOnlySpan<byte> header, long dataLength)
    {
        var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonDocument doc;
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw new PldrException($"{path}: the header is not valid UTF-8");
        try { doc = JsonDocument.Parse(header.ToArray()); }
        catch (JsonException e) { throw new PldrException($"{path}: the header is not valid JSON ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new PldrException($"{path}: the header is not a JSON object");
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in property.Value.EnumerateObject())
                            metadata[m.Name] = m.Value.ToString();
                    continue;
                }
                tensors[property.Name] = ParseEntry(path, property.Name, property.Value, dataLength);
            }
        }
        // The format lays tensors out one after another; overlapping ranges would let a small file claim huge tensors.
        TensorEntry? previous = null;
        foreach (var e in tensors.Values.Where(e => e.End > e.Begin).OrderBy(e => e.Begin))
        {
            if (previous is not null && e.Begin < previous.End)
                throw new PldrException($"{path}: tensors '{previous.Name}' and '{e.Name}' overlap in the data section");
            previous = e;
        }
        return (tensors, metadata);
    }

    static TensorEntry ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        string where = $"{path}: tensor '{name}'";
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !e.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
            throw new PldrException($"{where}: header entry needs dtype, shape and two data_offsets");
        var dtype = dtypeElement.GetString() switch
        {
            "F32" => TensorDType.F32, "F16" => TensorDType.F16, "BF16" => TensorDType.BF16, "F64" => TensorDType.F64,
            "I32" => TensorDType.I32, "I64" => TensorDType.I64, "BOOL" => TensorDType.Bool,
            var other => throw new PldrException($"{where}: dtype {other} is not supported (F32, F16, BF16, F64, I32, I64, BOOL)"),
        };
        var shape = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int dim) || dim < 0)
                throw new PldrException($"{where}: shape entry {d} is not a non-negative 32-bit integer");
            shape[i++] = dim;
            if (dim != 0 && count > dataLength / dim)
                throw new PldrException($"{where}: shape {FormatShape(shape[..i])}… has more elements than the {dataLength}-byte data section holds");
            count *= dim;
        }
        if (offsetsElement[0].ValueKind != JsonValueKind.Number || offsetsElement[1].ValueKind != JsonValueKind.Number
            || !offsetsElement[0].TryGetInt64(out long begin) || !offsetsElement[1].TryGetInt64(out long end))
            throw new PldrException($"{where}: data_offsets are not integers");
        if (begin < 0 || end < begin || end > dataLength)
            throw new PldrException($"{where}: data_offsets [{begin}, {end}] lie outside the {dataLength}-byte data section (truncated file?)");
        long expected = count * ElementSize(dtype);
        if (end - begin != expected)
            throw new PldrException($"{where}: data_offsets span {end - begin} bytes but {dtype} {FormatShape(shape)} needs {expected}");
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    public static int ElementSize(TensorDType t) => t switch
    {
        TensorDType.F32 or TensorDType.I32 => 4,
        TensorDType.F16 or TensorDType.BF16 => 2,
        TensorDType.F64 or TensorDType.I64 => 8,
        _ => 1,
    };

    static string FormatShape(int[] shape) => "[" + string.Join(", ", shape) + "]";

    public bool Contains(string name) => Tensors.ContainsKey(name);

    public TensorEntry Entry(string name) =>
        Tensors.TryGetValue(name, out var e) ? e : throw new PldrException($"{Path}: tensor '{name}' is missing");

    /// <summary>The raw bytes of a tensor, straight from the mapped file.</summary>
    public ReadOnlySpan<byte> Bytes(TensorEntry e) => new(_data + e.Begin, checked((int)(e.End - e.Begin)));

    /// <summary>Reads a tensor as float32 (F32 copied, F16/BF16 widened exactly, F64 rounded).</summary>
    public void ReadFloat32(string name, Span<float> destination)
    {
        var e = Entry(name);
        if (e.ElementCount != destination.Length)
            throw new PldrException($"{Path}: tensor '{name}' has {e.ElementCount} elements, expected {destination.Length}");
        var bytes = Bytes(e);
        switch (e.DType)
        {
            case TensorDType.F32: MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination); break;
            case TensorDType.BF16: BFloat16.Widen(MemoryMarshal.Cast<byte, ushort>(bytes), destination); break;
            case TensorDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < halves.Length; i++) destination[i] = (float)halves[i];
                break;
            case TensorDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < doubles.Length; i++) destination[i] = (float)doubles[i];
                break;
            default: throw new PldrException($"{Path}: tensor '{name}' is {e.DType}, expected a floating-point tensor");
        }
    }

    public float[] ReadFloat32(string name)
    {
        var result = new float[checked((int)Entry(name).ElementCount)];
        ReadFloat32(name, result);
        return result;
    }

    /// <summary>Reads a floating-point tensor as float64 (for the float64 reference and for fixtures).</summary>
    public double[] ReadFloat64(string name)
    {
        var e = Entry(name);
        if (e.DType == TensorDType.F64) return MemoryMarshal.Cast<byte, double>(Bytes(e)).ToArray();
        var f = ReadFloat32(name);
        return Array.ConvertAll(f, v => (double)v);
    }

    public int[] ReadInt32(string name)
    {
        var e = Entry(name);
        return e.DType switch
        {
            TensorDType.I32 => MemoryMarshal.Cast<byte, int>(Bytes(e)).ToArray(),
            TensorDType.I64 => Array.ConvertAll(MemoryMarshal.Cast<byte, long>(Bytes(e)).ToArray(), v => checked((int)v)),
            _ => throw new PldrException($"{Path}: tensor '{name}' is {e.DType}, expected I32 or I64"),
        };
    }

    public void Dispose()
    {
        if (_view is null) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map?.Dispose();
    }
}
