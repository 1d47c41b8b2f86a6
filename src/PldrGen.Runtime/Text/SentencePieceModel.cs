using System.Text;

namespace PldrGen.Runtime.Text;

/// <summary>The piece kinds of sentencepiece_model.proto (ModelProto.SentencePiece.Type).</summary>
enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

readonly record struct ModelPiece(string Text, float Score, PieceType Type);

/// <summary>
/// The fields of a SentencePiece .model (a serialized ModelProto) that encoding and decoding depend on, with the
/// proto's defaults for fields the file leaves out.
/// </summary>
sealed class SentencePieceModel
{
    public const int UnigramModelType = 1;

    public List<ModelPiece> Pieces { get; } = [];
    public int ModelType { get; private set; } = UnigramModelType;
    public bool ByteFallback { get; private set; }
    public bool TreatWhitespaceAsSuffix { get; private set; }
    public string UnknownSurface { get; private set; } = " \u2047 ";
    public string NormalizerName { get; private set; } = "";
    public byte[] PrecompiledCharsMap { get; private set; } = [];
    public bool AddDummyPrefix { get; private set; } = true;
    public bool RemoveExtraWhitespaces { get; private set; } = true;
    public bool EscapeWhitespaces { get; private set; } = true;
    public byte[] DenormalizerCharsMap { get; private set; } = [];

    /// <exception cref="InvalidDataException">The bytes are not a ModelProto.</exception>
    public static SentencePieceModel Parse(ReadOnlySpan<byte> data)
    {
        var model = new SentencePieceModel();
        var reader = new ProtoReader(data);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: model.Pieces.Add(ReadPiece(Message(ref reader, field, wire))); break;
                case 2: model.ReadTrainerSpec(Message(ref reader, field, wire)); break;
                case 3: model.ReadNormalizerSpec(Message(ref reader, field, wire)); break;
                case 5: model.ReadDenormalizerSpec(Message(ref reader, field, wire)); break;
                default: reader.Skip(wire); break;
            }
        }
        return model;
    }

    static ModelPiece ReadPiece(ReadOnlySpan<byte> message)
    {
        string? text = null;
        float score = 0;
        var type = PieceType.Normal;
        var reader = new ProtoReader(message);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: text = Text(ref reader, field, wire); break;
                case 2: Expect(field, wire, ProtoReader.Fixed32); score = reader.ReadFloat(); break;
                case 3: type = (PieceType)Number(ref reader, field, wire); break;
                default: reader.Skip(wire); break;
            }
        }
        if (string.IsNullOrEmpty(text)) throw new InvalidDataException("a piece has no text");
        if (!Enum.IsDefined(type)) throw new InvalidDataException($"piece '{text}' has unknown type {(int)type}");
        return new ModelPiece(text, score, type);
    }

    void ReadTrainerSpec(ReadOnlySpan<byte> message)
    {
        var reader = new ProtoReader(message);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 3: ModelType = (int)Number(ref reader, field, wire); break;
                case 24: TreatWhitespaceAsSuffix = Number(ref reader, field, wire) != 0; break;
                case 35: ByteFallback = Number(ref reader, field, wire) != 0; break;
                case 44: UnknownSurface = Text(ref reader, field, wire); break;
                default: reader.Skip(wire); break;
            }
        }
    }

    void ReadNormalizerSpec(ReadOnlySpan<byte> message)
    {
        var reader = new ProtoReader(message);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: NormalizerName = Text(ref reader, field, wire); break;
                case 2: PrecompiledCharsMap = Message(ref reader, field, wire).ToArray(); break;
                case 3: AddDummyPrefix = Number(ref reader, field, wire) != 0; break;
                case 4: RemoveExtraWhitespaces = Number(ref reader, field, wire) != 0; break;
                case 5: EscapeWhitespaces = Number(ref reader, field, wire) != 0; break;
                default: reader.Skip(wire); break;
            }
        }
    }

    void ReadDenormalizerSpec(ReadOnlySpan<byte> message)
    {
        var reader = new ProtoReader(message);
        while (reader.Next(out int field, out int wire))
        {
            if (field == 2) DenormalizerCharsMap = Message(ref reader, field, wire).ToArray();
            else reader.Skip(wire);
        }
    }

    static ReadOnlySpan<byte> Message(ref ProtoReader reader, int field, int wire)
    {
        Expect(field, wire, ProtoReader.LengthDelimited);
        return reader.ReadBytes();
    }

    static string Text(ref ProtoReader reader, int field, int wire) => Encoding.UTF8.GetString(Message(ref reader, field, wire));

    static ulong Number(ref ProtoReader reader, int field, int wire)
    {
        Expect(field, wire, ProtoReader.Varint);
        return reader.ReadVarint();
    }

    static void Expect(int field, int wire, int expected)
    {
        if (wire != expected) throw new InvalidDataException($"field {field} has wire type {wire}, expected {expected}");
    }
}
