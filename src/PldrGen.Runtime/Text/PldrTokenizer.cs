using System.Runtime.InteropServices;
using System.Text;

namespace PldrGen.Runtime.Text;

/// <summary>
/// The PLDR-LLM tokenizer: a SentencePiece unigram model with nmt_nfkc normalization, dummy prefix, whitespace
/// collapsing, byte fallback and split digits, encoding without BOS/EOS. Ids and text match the sentencepiece library.
/// </summary>
/// <remarks>
/// Written here rather than on Microsoft.ML.Tokenizers 2.0.1, which reads these models but differs from sentencepiece
/// on them: its byte-fallback ids are offset from the last byte piece instead of &lt;0x00&gt; (wrong whenever pieces
/// precede the byte pieces, as [SEP] and [CLS] do here), its decoder turns [SEP], [CLS] and the byte pieces into
/// nothing, its normalizer keeps characters that the charsmap deletes (an empty replacement, e.g. U+0001), and it sums
/// Viterbi scores in float where sentencepiece uses double, which changes the winner of near-tied segmentations
/// (runs like "=====" after a long prefix). It takes only the .model stream, so none of this can be corrected around
/// it. Checked against sentencepiece 0.2.1 itself: tests/fixtures/tokenizer/spm-reference.json.
/// </remarks>
public sealed class PldrTokenizer
{
    public const int PadId = 0, UnknownId = 1, StartId = 2, EndId = 3;

    readonly List<ModelPiece> _pieces;
    readonly string _unknownSurface;
    readonly int[] _byteIds = new int[256];   // byte value -> id of its <0xNN> piece
    readonly int[] _byteOfId;                 // id -> byte value of a <0xNN> piece, -1 for other pieces
    readonly SentencePieceNormalizer _normalizer;
    readonly UnigramSegmenter _segmenter;

    PldrTokenizer(SentencePieceModel model)
    {
        _pieces = model.Pieces;
        _unknownSurface = model.UnknownSurface;
        _byteOfId = new int[_pieces.Count];
        Array.Fill(_byteOfId, -1);
        Array.Fill(_byteIds, -1);
        for (int id = 0; id < _pieces.Count; id++)
        {
            if (_pieces[id].Type != PieceType.Byte) continue;
            int value = BytePieces.ValueOf(_pieces[id].Text);
            if (value < 0) throw new InvalidDataException($"byte piece {id} is '{_pieces[id].Text}', not <0xNN>");
            _byteOfId[id] = value;
            _byteIds[value] = id;
        }
        int missing = Array.IndexOf(_byteIds, -1);
        if (missing >= 0) throw new InvalidDataException($"byte piece {BytePieces.Name(missing)} is missing");

        var charsMap = model.PrecompiledCharsMap.Length > 0 ? new PrecompiledCharsMap(model.PrecompiledCharsMap) : null;
        var userDefined = new PieceTrie(_pieces.Where(p => p.Type == PieceType.UserDefined).Sum(p => Encoding.UTF8.GetByteCount(p.Text)));
        for (int id = 0; id < _pieces.Count; id++)
            if (_pieces[id].Type == PieceType.UserDefined) userDefined.Add(Encoding.UTF8.GetBytes(_pieces[id].Text), id);
        _normalizer = new SentencePieceNormalizer(charsMap, userDefined);
        _segmenter = new UnigramSegmenter(_pieces, UnknownId);
    }

    /// <summary>Reads a SentencePiece .model file; a missing file or one that is not a PLDR-LLM tokenizer throws.</summary>
    /// <exception cref="PldrException">The file is missing, unreadable, or not a model this tokenizer reproduces.</exception>
    public static PldrTokenizer Load(string modelPath)
    {
        var bytes = InputFile.ReadAll(modelPath, MaxModelBytes, "tokenizer model");
        try
        {
            var model = SentencePieceModel.Parse(bytes);
            ModelValidation.Check(model);
            return new PldrTokenizer(model);
        }
        catch (InvalidDataException e) { throw new PldrException($"{modelPath}: not a PLDR-LLM SentencePiece model: {e.Message}", e); }
    }

    /// <summary>The largest .model file read: the paper's 32k-piece model has 0.8 MB.</summary>
    public const long MaxModelBytes = 4L << 20;

    public int VocabSize => _pieces.Count;

    /// <summary>The ids sentencepiece gives <paramref name="text"/>, without BOS or EOS.</summary>
    public int[] Encode(string text)
    {
        byte[] normalized = _normalizer.Normalize(text);
        var ids = new List<int>(normalized.Length);
        foreach (var (start, end, id) in _segmenter.Segment(normalized))
        {
            if (id != UnknownId) ids.Add(id);
            else for (int i = start; i < end; i++) ids.Add(_byteIds[normalized[i]]);
        }
        return [.. ids];
    }

    /// <summary>As <see cref="Encode"/>, but a prompt with no tokens becomes [END], as the authors' generation code does.</summary>
    public int[] EncodePrompt(string text)
    {
        int[] ids = Encode(text);
        return ids.Length > 0 ? ids : [EndId];
    }

    /// <summary>The piece strings of <see cref="Encode"/>'s ids ("▁" for spaces, "&lt;0xNN&gt;" for byte fallback).</summary>
    public IReadOnlyList<string> Pieces(string text) => Array.ConvertAll(Encode(text), id => _pieces[id].Text);

    /// <summary>sentencepiece's decode: control ids vanish, the first piece loses its dummy-prefix space.</summary>
    /// <exception cref="PldrException">An id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder();
        var byteRun = new List<byte>();
        foreach (int id in ids)
        {
            CheckId(id);
            if (_byteOfId[id] >= 0)
            {
                byteRun.Add((byte)_byteOfId[id]);
                continue;
            }
            SentencePieceUtf8.AppendBytes(CollectionsMarshal.AsSpan(byteRun), text);
            byteRun.Clear();
            text.Append(Surface(id, atStart: text.Length == 0));
        }
        SentencePieceUtf8.AppendBytes(CollectionsMarshal.AsSpan(byteRun), text);
        return text.ToString();
    }

    public StreamingDecoder CreateStreamingDecoder() => new(this);

    /// <summary>One token's text inside a longer text (its "▁" stays a space); a byte piece gives its name, "&lt;0xNN&gt;".</summary>
    /// <exception cref="PldrException">The id is outside the vocabulary.</exception>
    public string TokenText(int id)
    {
        CheckId(id);
        return _byteOfId[id] >= 0 ? _pieces[id].Text : Surface(id, atStart: false);
    }

    internal void CheckId(int id)
    {
        if ((uint)id >= (uint)_pieces.Count) throw new PldrException($"token id {id} is outside the vocabulary (0..{_pieces.Count - 1})");
    }

    /// <summary>The byte a &lt;0xNN&gt; piece stands for, or -1.</summary>
    internal int ByteOf(int id) => _byteOfId[id];

    /// <summary>
    /// The text of a piece that is not a byte: nothing for control pieces, the unknown surface (" ⁇ ") for [UNK], else
    /// the piece with "▁" as space, minus a leading "▁" while nothing has been written yet (sentencepiece's bos space).
    /// </summary>
    internal string Surface(int id, bool atStart)
    {
        var piece = _pieces[id];
        if (piece.Type == PieceType.Control) return "";
        if (piece.Type == PieceType.Unknown) return _unknownSurface;
        string text = atStart && piece.Text.StartsWith('\u2581') ? piece.Text[1..] : piece.Text;
        return text.Replace('\u2581', ' ');
    }
}
