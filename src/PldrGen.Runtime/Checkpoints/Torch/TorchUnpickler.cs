namespace PldrGen.Runtime.Checkpoints.Torch;

/// <summary>
/// The only constructors a torch checkpoint of tensors may reach: <c>collections.OrderedDict</c>,
/// <c>torch._utils._rebuild_tensor_v2</c> / <c>_rebuild_parameter</c>, the <c>torch.*Storage</c> types and, for
/// storages pickled on a GPU, <c>torch.storage._load_from_bytes</c> (which reads nested legacy torch.save bytes
/// with this same host, never torch's, and never nested further). Any other global is refused by name.
/// </summary>
sealed class TorchUnpickler(string source, Func<string, TorchStorageType, long, TorchStorage>? storage, bool nested = false) : IPickleHost
{
    enum Callable { OrderedDict, RebuildTensor, RebuildParameter, LoadFromBytes }

    public object Global(PickleGlobal global) => (global.Module, global.Name) switch
    {
        ("collections", "OrderedDict") => Callable.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2") => Callable.RebuildTensor,
        ("torch._utils", "_rebuild_parameter") => Callable.RebuildParameter,
        ("torch.storage", "_load_from_bytes") => Callable.LoadFromBytes,
        ("torch", var name) when TorchStorageType.Find(name) is { } type => type,
        _ => throw new PldrException($"{source}: refused to unpickle '{global}': only the constructors of saved tensors are allowed (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.*Storage)"),
    };

    public object? Call(object callable, object?[] arguments) => callable switch
    {
        Callable.OrderedDict when arguments.Length == 0 => new PickleDict(),
        Callable.RebuildTensor when arguments.Length is 6 or 7 => RebuildTensor(arguments),
        Callable.RebuildParameter when arguments.Length == 3 && arguments[0] is TorchTensor tensor => tensor,
        Callable.LoadFromBytes when nested => throw Bad("_load_from_bytes inside bytes that _load_from_bytes reads"),
        Callable.LoadFromBytes when arguments is [byte[] bytes] => LegacyTorchSave.Load(source, bytes, 0, nested: true).Root as TorchStorage
            ?? throw Bad("_load_from_bytes holds something other than one storage"),
        _ => throw Bad($"a call of {callable} with {arguments.Length} arguments"),
    };

    public object? PersistentLoad(object? id)
    {
        // ('storage', type, key, location, count) in the zip format; legacy files add a view entry, always None here.
        if (storage is null) throw Bad("a persistent id outside a torch.save file");
        if (id is not object?[] { Length: 5 or 6 } t || t[0] is not "storage" || t[1] is not TorchStorageType type
            || t[2] is not string key || t[4] is not long count || count < 0 || (t.Length == 6 && t[5] is not null))
            throw Bad("a persistent id that is not ('storage', type, key, location, count)");
        if (count > Array.MaxLength / type.ElementSize) throw new PldrException($"{source}: storage {key} of {count} elements is over 2 GB, which is not supported");
        return storage(key, type, count);
    }

    TorchTensor RebuildTensor(object?[] a)
    {
        if (a[0] is not TorchStorage s || a[1] is not long offset || a[2] is not object?[] size || a[3] is not object?[] stride || size.Length != stride.Length)
            throw Bad("_rebuild_tensor_v2 needs (storage, offset, size, stride, …)");
        var shape = new int[size.Length];
        var strides = new long[size.Length];
        long count = 1, last = offset;
        for (int d = 0; d < size.Length; d++)
        {
            if (size[d] is not long n || n < 0 || n > int.MaxValue || stride[d] is not long st || st < 0 || st > s.Count)
                throw Bad($"dimension {d} of a tensor is not a size and stride within its storage");
            (shape[d], strides[d]) = ((int)n, st);
            // both stay below 2^63: a factor ≤ 2^31 times a value ≤ 2^31 (sizes past that are refused below)
            count = n == 0 ? 0 : count > Array.MaxLength ? count : count * n;
            if (n > 0) last = last > s.Count ? last : last + (n - 1) * st;
        }
        if (offset < 0 || count > Array.MaxLength || (count > 0 && last >= s.Count))
            throw new PldrException($"{source}: a tensor view [{string.Join(", ", shape)}] at offset {offset} does not fit its storage of {s.Count} elements");
        return new TorchTensor(s, offset, shape, strides);
    }

    PldrException Bad(string what) => new($"{source}: not a pickle of tensors ({what})");
}
