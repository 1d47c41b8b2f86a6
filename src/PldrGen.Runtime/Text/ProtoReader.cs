namespace PldrGen.Runtime.Text;

/// <summary>
/// Reads the protobuf wire format field by field. A .model file is one small message (ModelProto); reading the few
/// fields the tokenizer needs by number avoids generated code and a protobuf dependency.
/// </summary>
ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    ReadOnlySpan<byte> _rest = data;

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next(out int field, out int wireType)
    {
        field = wireType = 0;
        if (_rest.IsEmpty) return false;
        ulong tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field == 0) throw new InvalidDataException("field number 0");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = Take(1)[0];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("varint longer than 10 bytes");
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong length = ReadVarint();
        if (length > (ulong)_rest.Length) throw new InvalidDataException("field longer than the message");
        return Take((int)length);
    }

    public float ReadFloat() => BitConverter.Int32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(Take(4)));

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(); break;
            case Fixed64: Take(8); break;
            case LengthDelimited: ReadBytes(); break;
            case Fixed32: Take(4); break;
            default: throw new InvalidDataException($"unknown wire type {wireType}");
        }
    }

    ReadOnlySpan<byte> Take(int count)
    {
        if (count > _rest.Length) throw new InvalidDataException("message ends inside a field");
        var taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }
}
