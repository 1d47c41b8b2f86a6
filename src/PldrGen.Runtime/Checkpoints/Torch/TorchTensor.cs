using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace PldrGen.Runtime.Checkpoints.Torch;

/// <summary>The storage classes a checkpoint may name (<c>torch.FloatStorage</c> …) and their element sizes.</summary>
public sealed record TorchStorageType(string Name, int ElementSize, TensorDType? DType)
{
    static readonly TorchStorageType[] Known =
    [
        new("FloatStorage", 4, TensorDType.F32), new("HalfStorage", 2, TensorDType.F16), new("BFloat16Storage", 2, TensorDType.BF16),
        new("DoubleStorage", 8, TensorDType.F64), new("LongStorage", 8, TensorDType.I64), new("IntStorage", 4, TensorDType.I32),
        new("ShortStorage", 2, null), new("CharStorage", 1, null), new("ByteStorage", 1, null), new("BoolStorage", 1, TensorDType.Bool),
    ];

    public static TorchStorageType? Find(string name) => Known.FirstOrDefault(t => t.Name == name);
}

/// <summary>One storage of a torch checkpoint: its elements are read only when a tensor that uses them is.</summary>
public sealed class TorchStorage
{
    readonly Func<long, byte[]> _read;
    byte[]? _bytes;

    internal TorchStorage(string key, TorchStorageType type, long count, Func<long, byte[]> read) =>
        (Key, Type, Count, _read) = (key, type, count, read);

    public string Key { get; }
    public TorchStorageType Type { get; }
    public long Count { get; }

    /// <summary>The raw little-endian elements (Count × element size bytes).</summary>
    public byte[] Bytes => _bytes ??= _read(Count * Type.ElementSize);
}

/// <summary>A tensor as torch rebuilds it: a view (offset, shape, strides in elements) of a storage.</summary>
public sealed record TorchTensor(TorchStorage Storage, long Offset, int[] Shape, long[] Stride)
{
    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    bool Contiguous
    {
        get
        {
            long expected = 1;
            for (int d = Shape.Length - 1; d >= 0; d--)
            {
                if (Shape[d] != 1 && Stride[d] != expected) return false;
                expected *= Shape[d];
            }
            return true;
        }
    }

    /// <summary>The elements in row-major order as raw bytes of the storage's type (a copy; strides resolved).</summary>
    /// <remarks>The unpickler only builds views that lie inside their storage and under 2 GB of elements.</remarks>
    public byte[] RowMajorBytes(string what)
    {
        int size = Storage.Type.ElementSize;
        if (ElementCount == 0) return [];
        if (ElementCount * size > Array.MaxLength) throw new PldrException($"{what}: a {ShapeText} tensor over 2 GB is not supported");
        var source = Storage.Bytes;
        if (Contiguous) return source.AsSpan((int)(Offset * size), (int)(ElementCount * size)).ToArray();
        var result = new byte[ElementCount * size];
        var index = new int[Shape.Length];
        for (long i = 0; i < ElementCount; i++)
        {
            long at = Offset;
            for (int d = 0; d < Shape.Length; d++) at += index[d] * Stride[d];
            source.AsSpan((int)(at * size), size).CopyTo(result.AsSpan((int)(i * size), size));
            for (int d = Shape.Length - 1; d >= 0 && ++index[d] == Shape[d]; d--) index[d] = 0;
        }
        return result;
    }

    /// <summary>The elements as float32 (from float32, float16, bfloat16 or float64 storages).</summary>
    public float[] ToFloat32(string what)
    {
        var bytes = RowMajorBytes(what);
        switch (Storage.Type.DType)
        {
            case TensorDType.F32: return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case TensorDType.F16: return MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(h => (float)h).ToArray();
            case TensorDType.BF16:
                return MemoryMarshal.Cast<byte, ushort>(bytes).ToArray().Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray();
            case TensorDType.F64:
                var values = new float[bytes.Length / 8];
                for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8));
                return values;
            default: throw new PldrException($"{what}: a {Storage.Type.Name} tensor, expected floating point");
        }
    }
}
