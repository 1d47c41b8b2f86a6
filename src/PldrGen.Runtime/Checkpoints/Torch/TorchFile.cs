using System.IO.Compression;

namespace PldrGen.Runtime.Checkpoints.Torch;

/// <summary>
/// A file written by torch.save or pickle.dump, read with the restricted unpickler: the zip format
/// (<c>archive/data.pkl</c> + <c>archive/data/{key}</c>, storages read only when a tensor is), the legacy format,
/// or a plain pickle whose tensors carry their own legacy bytes (the authors' predefined G_LM lists).
/// </summary>
public sealed class TorchFile : IDisposable
{
    // Deflate expands at most ~1032×: a zip entry that claims more than that is lying about its size.
    const long MaxDeflateRatio = 1032;

    readonly ZipArchive? _zip;

    public string Path { get; }
    /// <summary>The unpickled object: dicts, lists, tuples, numbers, strings and tensors only.</summary>
    internal object? Root { get; }

    TorchFile(string path, ZipArchive? zip, object? root) => (Path, _zip, Root) = (path, zip, root);

    public static TorchFile Open(string path)
    {
        // A folder, a pipe or a device (which would block or never end) is refused before anything is read.
        InputFile.Length(path, long.MaxValue, "PyTorch checkpoint or pickle");
        using (var probe = File.OpenRead(path))
        {
            Span<byte> magic = stackalloc byte[4];
            if (probe.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("PK\u0003\u0004"u8))
                return OpenZip(path);
            if (probe.Length > Array.MaxLength) throw new PldrException($"{path}: a pickle over 2 GB is not supported; save it with torch.save's zip format");
        }
        var bytes = InputFile.ReadAll(path, Array.MaxLength, "pickle");
        if (LegacyTorchSave.Detect(bytes)) return new TorchFile(path, null, LegacyTorchSave.Load(path, bytes, 0).Root);
        var reader = new PickleReader(path, bytes, new TorchUnpickler(path, storage: null));
        return new TorchFile(path, null, reader.Load());
    }

    static TorchFile OpenZip(string path)
    {
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new PldrException($"{path}: not a readable zip file ({e.Message})"); }
        try
        {
            var pickles = zip.Entries.Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
            if (pickles.Count != 1) throw new PldrException($"{path}: not a torch.save zip file (expected one archive/data.pkl, found {pickles.Count})");
            string prefix = pickles[0].FullName[..^"data.pkl".Length];
            var storages = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
            TorchStorage Storage(string key, TorchStorageType type, long count) =>
                storages.TryGetValue(key, out var found) ? found
                : storages[key] = new TorchStorage(key, type, count, length => ReadEntry(path, zip, prefix + "data/" + key, length));
            var bytes = ReadEntry(path, zip, pickles[0].FullName, null);
            var root = new PickleReader(path, bytes, new TorchUnpickler(path, Storage)).Load();
            return new TorchFile(path, zip, root);
        }
        catch (InvalidDataException e) // the central directory is read on first use of the entries
        {
            zip.Dispose();
            throw new PldrException($"{path}: not a readable zip file ({e.Message})", e);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>An entry's first <paramref name="length"/> bytes (all of it when null), checked against what the zip claims.</summary>
    static byte[] ReadEntry(string path, ZipArchive zip, string name, long? length)
    {
        var entry = zip.GetEntry(name) ?? throw new PldrException($"{path}: entry '{name}' is missing");
        long size = entry.Length;
        if (size > Math.Max(entry.CompressedLength, 1) * MaxDeflateRatio || size > Array.MaxLength || (length ?? 0) > size)
            throw new PldrException($"{path}: entry '{name}' holds {size} bytes, {length ?? size} needed ({entry.CompressedLength} compressed)");
        var bytes = new byte[length ?? size];
        try
        {
            using var stream = entry.Open();
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new PldrException($"{path}: entry '{name}' is truncated or corrupt ({e.Message})");
        }
        return bytes;
    }

    /// <summary>
    /// The model's tensors: <c>model_state_dict</c> of a training checkpoint (the authors' save_model and
    /// fsdp_save_model), or the file itself when it is a bare state dict.
    /// </summary>
    public IReadOnlyList<(string Name, TorchTensor Tensor)> StateDict()
    {
        var dict = Root as PickleDict ?? throw new PldrException($"{Path}: holds no dict of tensors");
        if (dict["model_state_dict"] is PickleDict inner) dict = inner;
        var tensors = new List<(string, TorchTensor)>();
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name || value is not TorchTensor tensor)
                throw new PldrException($"{Path}: entry '{key}' of the state dict is not a named tensor (a training checkpoint holds its weights under 'model_state_dict')");
            tensors.Add((name, tensor));
        }
        return tensors.Count > 0 ? tensors : throw new PldrException($"{Path}: the state dict holds no tensors");
    }

    /// <summary>
    /// A predefined G_LM: a list of one tensor per layer, each [1, H, dk, dk] or [H, dk, dk] (the authors'
    /// ablation files), as a G-cache with G only.
    /// </summary>
    public GCache PredefinedG()
    {
        if (Root is not List<object?> { Count: > 0 } layers || layers.Any(l => l is not TorchTensor))
            throw new PldrException($"{Path}: not a predefined G_LM (expected a list of one tensor [1, heads, dk, dk] per layer)");
        var first = (TorchTensor)layers[0]!;
        int[] shape = first.Shape.Length == 4 && first.Shape[0] == 1 ? first.Shape[1..] : first.Shape;
        if (shape.Length != 3 || shape[1] != shape[2])
            throw new PldrException($"{Path}: layer 0's G_LM has shape {first.ShapeText}, expected [1, heads, dk, dk]");
        var cache = new GCache(layers.Count, shape[0], shape[1]);
        for (int l = 0; l < layers.Count; l++)
        {
            var tensor = (TorchTensor)layers[l]!;
            if (tensor.ElementCount != cache.LayerSize || tensor.Shape[^2..].SequenceEqual(shape[1..]) is false)
                throw new PldrException($"{Path}: layer {l}'s G_LM has shape {tensor.ShapeText}, layer 0's is {first.ShapeText}");
            tensor.ToFloat32($"{Path}: layer {l}'s G_LM").CopyTo(cache.LayerG(l));
        }
        return cache;
    }

    public void Dispose() => _zip?.Dispose();
}
