using System.Buffers.Binary;
using System.Numerics;

namespace PldrGen.Runtime.Checkpoints.Torch;

/// <summary>
/// torch.save's legacy (pre-zip) layout: five pickles back to back — magic number, protocol version 1001, system
/// info, the object (storages as persistent ids), the storage keys — then per key an int64 element count and the
/// raw elements. GPU-pickled tensors hold one such file per storage (<c>torch.storage._load_from_bytes</c>).
/// </summary>
static class LegacyTorchSave
{
    static readonly BigInteger Magic = BigInteger.Parse("119547037146038801333356");

    /// <summary>True when <paramref name="bytes"/> starts with the legacy magic-number pickle.</summary>
    public static bool Detect(byte[] bytes) =>
        bytes.Length > 14 && bytes[0] == 0x80 && bytes[2] == 0x8a && bytes[3] == 10
        && new BigInteger(bytes.AsSpan(4, 10), isUnsigned: false, isBigEndian: false) == Magic;

    public static (object? Root, int End) Load(string source, byte[] bytes, int start, bool nested = false)
    {
        var storages = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
        var offsets = new Dictionary<string, int>(StringComparer.Ordinal);
        TorchStorage Storage(string key, TorchStorageType type, long count) =>
            storages.TryGetValue(key, out var found) ? found
            : storages[key] = new TorchStorage(key, type, count, length => bytes.AsSpan(offsets[key], (int)length).ToArray());

        var reader = new PickleReader(source, bytes, new TorchUnpickler(source, Storage, nested)) { Position = start };
        if (reader.Load() is not BigInteger magic || magic != Magic) throw Bad(source, "the magic number is missing");
        if (reader.Load() is not 1001L) throw Bad(source, "protocol version is not 1001");
        if (reader.Load() is not PickleDict info || info["little_endian"] is not true) throw Bad(source, "not a little-endian save");
        var root = reader.Load();
        if (reader.Load() is not List<object?> keys) throw Bad(source, "the storage key list is missing");

        int position = reader.Position;
        foreach (var item in keys)
        {
            if (item is not string key || !storages.TryGetValue(key, out var storage)) throw Bad(source, $"storage key {item} names no storage");
            if (bytes.Length - position < 8) throw Bad(source, $"storage {key} is truncated");
            long count = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(position)), left = bytes.Length - position - 8;
            if (count != storage.Count || count < 0 || count > left / storage.Type.ElementSize)
                throw Bad(source, $"storage {key} holds {count} elements, {storage.Count} expected, {left} bytes left");
            long length = count * storage.Type.ElementSize;
            offsets[key] = position + 8;
            position += 8 + (int)length;
        }
        if (storages.Keys.FirstOrDefault(k => !offsets.ContainsKey(k)) is { } missing) throw Bad(source, $"storage {missing} has no data");
        return (root, position);
    }

    static PldrException Bad(string source, string what) => new($"{source}: not a legacy torch.save file ({what})");
}
