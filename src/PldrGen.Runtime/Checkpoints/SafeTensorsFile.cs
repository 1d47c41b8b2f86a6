using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

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
/// file is refused with a message that names the file and the tensor. Values are read with file reads, not
/// through the mapping: a loader that packs a large tensor piece by piece then holds only the piece, where
/// touched mapped pages would stay in the process's resident set until the file is closed.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>
    /// The largest header read, and the most tensors and metadata entries in it. Real checkpoints have a few hundred
    /// tensors in well under 1 MiB; at these limits a hostile header costs about 100 MB and a second, not 1.3 GB.
    /// </summary>
    public const long MaxHeaderBytes = 16L << 20;
    public const int MaxEntries = 65_536;

    readonly SafeFileHandle _file;
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly byte* _data;
    readonly long _dataStart, _dataLength;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafeTensorsFile(string path, SafeFileHandle file, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* data,
        long dataStart, long dataLength, Dictionary<string, TensorEntry> tensors, Dictionary<string, string> metadata)
    {
        Path = path; _file = file; _map = map; _view = view; _data = data; _dataStart = dataStart; _dataLength = dataLength;
        Tensors = tensors; Metadata = metadata;
    }

    public static SafeTensorsFile Open(string path)
    {
        long fileLength = InputFile.Length(path, long.MaxValue, "safetensors");
        if (fileLength < 8) throw new PldrException($"{path}: not a safetensors file ({fileLength} bytes, the 8-byte header length is missing)");
        var file = File.OpenHandle(path);
        var map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* basePtr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        basePtr += view.PointerOffset;
        try
        {
            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(basePtr, 8));
            if (headerLength > MaxHeaderBytes && 8 + headerLength <= fileLength)
                throw new PldrException($"{path}: the header has {headerLength} bytes, more than the {MaxHeaderBytes} this reader takes");
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > fileLength)
                throw new PldrException($"{path}: header length {headerLength} does not fit a file of {fileLength} bytes (truncated or not a safetensors file)");
            var header = new ReadOnlySpan<byte>(basePtr + 8, (int)headerLength);
            long dataLength = fileLength - 8 - headerLength;
            var (tensors, metadata) = ParseHeader(path, header, dataLength);
            return new SafeTensorsFile(path, file, map, view, basePtr + 8 + headerLength, 8 + headerLength, dataLength, tensors, metadata);
        }
        catch
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose(); map.Dispose(); file.Dispose();
            throw;
        }
    }

    static (Dictionary<string, TensorEntry>, Dictionary<string, string>) ParseHeader(string path, ReadOnlySpan<byte> header, long dataLength)
    {
        var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var doc = JsonInput.Open(header.ToArray(), path, "the header"))
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new PldrException($"{path}: the header is not a JSON object");
            int entries = root.GetPropertyCount() + (root.TryGetProperty("__metadata__", out var m) && m.ValueKind == JsonValueKind.Object ? m.GetPropertyCount() : 0);
            if (entries > MaxEntries) throw new PldrException($"{path}: the header has {entries} tensors and metadata entries, more than the {MaxEntries} this reader takes");
            JsonInput.RequireText(root, path);
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                        foreach (var entry in property.Value.EnumerateObject())
                            metadata[entry.Name] = entry.Value.ToString();
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
        ReadFloat32(e, 0, destination);
    }

    /// <summary>Elements [first, first + destination.Length) of a floating-point tensor as float32.</summary>
    internal void ReadFloat32(TensorEntry e, long first, Span<float> destination)
    {
        if (first < 0 || first + destination.Length > e.ElementCount)
            throw new ArgumentOutOfRangeException(nameof(first), $"elements [{first}, {first + destination.Length}) lie outside tensor '{e.Name}' of {e.ElementCount}");
        int size = ElementSize(e.DType);
        long offset = _dataStart + e.Begin + first * size;
        if (e.DType == TensorDType.F32)
        {
            ReadExactly(MemoryMarshal.AsBytes(destination), offset, e);
            return;
        }
        if (e.DType is not (TensorDType.BF16 or TensorDType.F16 or TensorDType.F64))
            throw new PldrException($"{Path}: tensor '{e.Name}' is {e.DType}, expected a floating-point tensor");
        var staging = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(destination.Length, StagingElements) * size);
        try
        {
            for (int done = 0; done < destination.Length;)
            {
                int count = Math.Min(destination.Length - done, StagingElements);
                var bytes = staging.AsSpan(0, count * size);
                ReadExactly(bytes, offset + (long)done * size, e);
                Widen(e.DType, bytes, destination.Slice(done, count));
                done += count;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(staging);
        }
    }

    /// <summary>Elements converted per file read of a 16- or 64-bit tensor.</summary>
    const int StagingElements = 1 << 16;

    static void Widen(TensorDType dtype, ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        switch (dtype)
        {
            case TensorDType.BF16: BFloat16.Widen(MemoryMarshal.Cast<byte, ushort>(bytes), destination); break;
            case TensorDType.F16: System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), destination); break;
            default:
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < doubles.Length; i++) destination[i] = (float)doubles[i];
                break;
        }
    }

    void ReadExactly(Span<byte> destination, long offset, TensorEntry e)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(_file, destination, offset);
            if (read == 0) throw new PldrException($"{Path}: the file ended inside tensor '{e.Name}' (it was truncated while being read)");
            destination = destination[read..];
            offset += read;
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
            TensorDType.I64 => Array.ConvertAll(MemoryMarshal.Cast<byte, long>(Bytes(e)).ToArray(), v => v is >= int.MinValue and <= int.MaxValue ? (int)v
                : throw new PldrException($"{Path}: tensor '{name}' holds {v}, which does not fit in 32 bits")),
            _ => throw new PldrException($"{Path}: tensor '{name}' is {e.DType}, expected I32 or I64"),
        };
    }

    public void Dispose()
    {
        if (_view is null) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map?.Dispose();
        _file.Dispose();
    }
}
