using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace PldrGen.Runtime.Checkpoints.Torch;

/// <summary>A pickled dict (dict or OrderedDict) in insertion order; keys are strings or numbers.</summary>
sealed class PickleDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];

    public object? this[string key] => Items.FirstOrDefault(kv => kv.Key is string s && s == key).Value;

    public bool Contains(string key) => Items.Any(kv => kv.Key is string s && s == key);
}

/// <summary>A global the pickle named (module and name), resolved only through <see cref="IPickleHost"/>.</summary>
sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>What a restricted unpickler lets a pickle reach: a few named constructors and persistent ids.</summary>
interface IPickleHost
{
    /// <summary>Returns the callable for a global, or throws: every global outside the allowed few is refused.</summary>
    object Global(PickleGlobal global);

    /// <summary>REDUCE: calls a callable that <see cref="Global"/> returned.</summary>
    object? Call(object callable, object?[] arguments);

    /// <summary>BINPERSID: the object a persistent id names (torch: a storage).</summary>
    object? PersistentLoad(object? id);
}

/// <summary>
/// A pickle virtual machine for data only (protocols 2–5): numbers, strings, bytes, tuples, lists and dicts are
/// built here; every global goes through <see cref="IPickleHost"/>, so nothing is imported, constructed or called
/// that the host does not allow. Every length is checked against the bytes left before it is read.
/// </summary>
sealed class PickleReader(string source, byte[] data, IPickleHost host)
{
    readonly List<object?> _stack = [];
    readonly Stack<int> _marks = new();
    readonly Dictionary<long, object?> _memo = [];
    int _position;

    /// <summary>Where the next pickle starts (torch.save writes several back to back).</summary>
    public int Position { get => _position; set => _position = value; }

    public int Remaining => data.Length - _position;

    /// <summary>Reads one pickle from <see cref="Position"/> to its STOP and returns its value.</summary>
    public object? Load()
    {
        _stack.Clear(); _marks.Clear(); _memo.Clear();
        while (true)
        {
            int at = _position;
            byte op = Byte();
            switch (op)
            {
                case 0x80: Byte(); break;                                   // PROTO
                case 0x95: Bytes(8); break;                                 // FRAME (a length hint)
                case (byte)'.': return _stack.Count == 1 ? Pop() : throw Bad($"STOP at byte {at} with {_stack.Count} values on the stack");
                case (byte)'(': _marks.Push(_stack.Count); break;           // MARK
                case (byte)'0': Pop(); break;                               // POP
                case (byte)'1': PopMark(); break;                           // POP_MARK
                case (byte)'2': Push(Peek()); break;                        // DUP
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;                               // NEWTRUE
                case 0x89: Push(false); break;                              // NEWFALSE
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break;   // BININT
                case (byte)'K': Push((long)Byte()); break;                  // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break;  // BININT2
                case 0x8a: Push(Long(Byte())); break;                       // LONG1
                case 0x8b: Push(Long(Length(4, limit: 64))); break;         // LONG4 (no number a tensor needs is longer)
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break;           // BINFLOAT
                case (byte)'X': Push(Text(Length(4))); break;               // BINUNICODE
                case 0x8c: Push(Text(Byte())); break;                       // SHORT_BINUNICODE
                case 0x8d: Push(Text(Length(8))); break;                    // BINUNICODE8
                case (byte)'B': Push(Bytes(Length(4)).ToArray()); break;    // BINBYTES
                case (byte)'C': Push(Bytes(Byte()).ToArray()); break;       // SHORT_BINBYTES
                case 0x8e: Push(Bytes(Length(8)).ToArray()); break;         // BINBYTES8
                case (byte)')': Push(Array.Empty<object?>()); break;        // EMPTY_TUPLE
                case (byte)'t': Push(PopMark()); break;                     // TUPLE
                case 0x85: Push(PopN(1)); break;                            // TUPLE1
                case 0x86: Push(PopN(2)); break;                            // TUPLE2
                case 0x87: Push(PopN(3)); break;                            // TUPLE3
                case (byte)']': Push(new List<object?>()); break;           // EMPTY_LIST
                case (byte)'a': { var item = Pop(); ListAt().Add(item); break; }                        // APPEND
                case (byte)'e': { var items = PopMark(); ListAt().AddRange(items); break; }             // APPENDS
                case (byte)'}': Push(new PickleDict()); break;              // EMPTY_DICT
                case (byte)'s': { var value = Pop(); var key = Pop(); DictAt().Items.Add(new(key, value)); break; } // SETITEM
                case (byte)'u': SetItems(PopMark()); break;                 // SETITEMS
                case (byte)'q': _memo[Byte()] = Peek(); break;              // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break;              // MEMOIZE
                case (byte)'h': Push(Memo(Byte())); break;                  // BINGET
                case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))); break;    // LONG_BINGET
                case (byte)'c': { string module = Line(), name = Line(); Push(host.Global(new(module, name))); break; } // GLOBAL
                case 0x93: { var name = Pop(); var module = Pop(); Push(host.Global(new(AsText(module), AsText(name)))); break; } // STACK_GLOBAL
                case (byte)'R': { var args = Pop(); var callable = Pop(); Push(host.Call(callable!, args as object?[] ?? throw Bad("REDUCE without an argument tuple"))); break; }
                case (byte)'b': Build(); break;
                case (byte)'Q': Push(host.PersistentLoad(Pop())); break;    // BINPERSID
                default: throw Bad($"pickle opcode 0x{op:x2} at byte {at} is not one that saved tensors use");
            }
        }
    }

    // BUILD sets an object's state; torch sets only the _metadata attribute of a state dict, which carries nothing we read.
    void Build()
    {
        Pop();
        if (Peek() is not PickleDict) throw Bad("BUILD on something other than a dict (only a state dict's metadata may be set)");
    }

    void SetItems(object?[] items)
    {
        if (items.Length % 2 != 0) throw Bad("SETITEMS with an odd number of values");
        var dict = DictAt();
        for (int i = 0; i < items.Length; i += 2) dict.Items.Add(new(items[i], items[i + 1]));
    }

    List<object?> ListAt() => Peek() as List<object?> ?? throw Bad("APPEND to something that is not a list");
    PickleDict DictAt() => Peek() as PickleDict ?? throw Bad("SETITEM on something that is not a dict");

    object? Memo(long key) => _memo.TryGetValue(key, out var value) ? value : throw Bad($"memo entry {key} is read before it is written");

    void Push(object? value) => _stack.Add(value);

    object? Peek() => _stack.Count > (_marks.Count > 0 ? _marks.Peek() : 0) ? _stack[^1] : throw Bad("a value is missing on the stack");

    object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    object?[] PopN(int count)
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count - floor < count) throw Bad($"{count} values expected on the stack");
        var items = _stack.GetRange(_stack.Count - count, count).ToArray();
        _stack.RemoveRange(_stack.Count - count, count);
        return items;
    }

    object?[] PopMark()
    {
        if (_marks.Count == 0) throw Bad("a MARK is missing");
        int mark = _marks.Pop();
        var items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    byte Byte() => Bytes(1)[0];

    ReadOnlySpan<byte> Bytes(long count)
    {
        if (count < 0 || count > Remaining) throw Bad($"truncated: {count} bytes needed at byte {_position}, {Remaining} left");
        var span = data.AsSpan(_position, (int)count);
        _position += (int)count;
        return span;
    }

    long Length(int size, long limit = long.MaxValue)
    {
        var bytes = Bytes(size);
        long length = size == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadInt64LittleEndian(bytes);
        return length <= limit ? length : throw Bad($"a length of {length} at byte {_position - size} is out of range");
    }

    object Long(long count)
    {
        var value = new BigInteger(Bytes(count), isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    string Text(long count)
    {
        var bytes = Bytes(count);
        return Encoding.UTF8.GetString(bytes);
    }

    string Line()
    {
        int end = Array.IndexOf(data, (byte)'\n', _position);
        if (end < 0 || end - _position > 256) throw Bad($"GLOBAL at byte {_position} has no name line");
        string line = Encoding.ASCII.GetString(data, _position, end - _position);
        _position = end + 1;
        return line;
    }

    string AsText(object? value) => value as string ?? throw Bad("STACK_GLOBAL needs a module and a name");

    PldrException Bad(string what) => new($"{source}: not a pickle of tensors ({what})");
}
