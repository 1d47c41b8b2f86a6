using System.Text;

namespace PldrGen.Runtime.Text;

/// <summary>
/// Refuses .model files whose settings this tokenizer does not reproduce, so that a different tokenizer fails at load
/// rather than encoding differently from sentencepiece.
/// </summary>
static class ModelValidation
{
    /// <summary>
    /// The longest piece: sentencepiece trains pieces of at most 16 characters (64 bytes), the paper's longest has 48.
    /// Matching tries every piece prefix at every byte, so this bounds the work per byte of text.
    /// </summary>
    public const int MaxPieceBytes = 64;

    /// <exception cref="InvalidDataException">The first setting that differs from a PLDR-LLM tokenizer.</exception>
    public static void Check(SentencePieceModel model)
    {
        var pieces = model.Pieces;
        Require(pieces.Count > PldrTokenizer.EndId, $"it has {pieces.Count} pieces");
        int tooLong = pieces.FindIndex(p => Encoding.UTF8.GetByteCount(p.Text) > MaxPieceBytes);
        if (tooLong >= 0)
            throw new InvalidDataException($"piece {tooLong} has {Encoding.UTF8.GetByteCount(pieces[tooLong].Text)} bytes, more than the {MaxPieceBytes} a piece may have");
        Require(model.ModelType == SentencePieceModel.UnigramModelType, $"model type {model.ModelType} is not unigram");
        Require(model.ByteFallback, "byte fallback is off");
        Require(!model.TreatWhitespaceAsSuffix, "treat_whitespace_as_suffix is on");
        Require(model.AddDummyPrefix && model.RemoveExtraWhitespaces && model.EscapeWhitespaces,
            "add_dummy_prefix, remove_extra_whitespaces and escape_whitespaces must all be on");
        Require(model.DenormalizerCharsMap.Length == 0, "it has denormalization rules");

        Require(pieces[PldrTokenizer.UnknownId].Type == PieceType.Unknown, $"id {PldrTokenizer.UnknownId} is not the unknown piece");
        Require(pieces.Count(p => p.Type == PieceType.Unknown) == 1, "it has several unknown pieces");
        foreach (int id in (int[])[PldrTokenizer.PadId, PldrTokenizer.StartId, PldrTokenizer.EndId])
            Require(pieces[id].Type == PieceType.Control, $"id {id} ('{pieces[id].Text}') is not a control piece");

        // sentencepiece keeps two maps, normal-like pieces and the rest; a text may appear once in each.
        var duplicate = pieces.GroupBy(p => (p.Text, IsNormalLike(p.Type))).FirstOrDefault(g => g.Count() > 1);
        Require(duplicate is null, $"piece '{duplicate?.Key.Text}' is defined twice");
    }

    static bool IsNormalLike(PieceType type) => type is PieceType.Normal or PieceType.UserDefined or PieceType.Unused;

    static void Require(bool condition, string problem)
    {
        if (!condition) throw new InvalidDataException(problem);
    }
}
