using System.Text;

namespace PldrGen.Runtime.Text;

/// <summary>
/// The Viterbi search of sentencepiece's unigram model (unigram::Model::EncodeOptimized), over normalized UTF-8.
/// Arithmetic follows the C++ types: piece candidates are summed in double and stored as float, the unknown
/// candidate is summed in float, and user-defined pieces score length * max_score - 0.1 so they always win.
/// </summary>
sealed class UnigramSegmenter
{
    const float UnknownPenalty = 10;
    const float FloatMin = 1.17549435E-38f;   // C++ FLT_MIN, the smallest positive float: max_score's starting value

    readonly IReadOnlyList<ModelPiece> _pieces;
    readonly int _unknownId;
    readonly PieceTrie _trie;
    readonly float _minScore = float.MaxValue, _maxScore = FloatMin;

    public UnigramSegmenter(IReadOnlyList<ModelPiece> pieces, int unknownId)
    {
        _pieces = pieces;
        _unknownId = unknownId;
        static bool InTrie(ModelPiece p) => p.Type is PieceType.Normal or PieceType.UserDefined or PieceType.Unused;
        _trie = new PieceTrie(pieces.Where(InTrie).Sum(p => Encoding.UTF8.GetByteCount(p.Text)));
        for (int id = 0; id < pieces.Count; id++)
        {
            var piece = pieces[id];
            if (InTrie(piece)) _trie.Add(Encoding.UTF8.GetBytes(piece.Text), id);
            if (piece.Type != PieceType.Normal) continue;
            _minScore = Math.Min(_minScore, piece.Score);
            _maxScore = Math.Max(_maxScore, piece.Score);
        }
    }

    /// <summary>The best segmentation as (start, end, piece id) byte ranges; unknown characters get the unknown id.</summary>
    public List<(int Start, int End, int Id)> Segment(ReadOnlySpan<byte> normalized)
    {
        int size = normalized.Length;
        var best = new (float Score, int Start, int Id)[size + 1];
        Array.Fill(best, (0f, -1, -1));
        float unknownScore = _minScore - UnknownPenalty;

        for (int start = 0, charLength; start < size; start += charLength)
        {
            float scoreTillHere = best[start].Score;
            charLength = CharLength(normalized, start);
            bool hasSingleCharPiece = false;
            int node = 0;
            for (int end = start + 1; end <= size && _trie.Step(ref node, normalized[end - 1]); end++)
            {
                int id = _trie.PieceAt(node);
                if (id < 0 || _pieces[id].Type == PieceType.Unused) continue;
                int length = end - start;
                double score = _pieces[id].Type == PieceType.UserDefined ? length * _maxScore - 0.1 : _pieces[id].Score;
                double candidate = score + scoreTillHere;
                if (best[end].Start == -1 || candidate > best[end].Score) best[end] = ((float)candidate, start, id);
                if (length == charLength) hasSingleCharPiece = true;
            }
            if (hasSingleCharPiece) continue;
            // No piece covers this character alone: an unknown node keeps the lattice connected.
            float unknownCandidate = unknownScore + scoreTillHere;
            ref var target = ref best[start + charLength];
            if (target.Start == -1 || unknownCandidate > target.Score) target = (unknownCandidate, start, _unknownId);
        }

        var segments = new List<(int, int, int)>();
        for (int end = size; end > 0; end = best[end].Start) segments.Add((best[end].Start, end, best[end].Id));
        segments.Reverse();
        return segments;
    }

    /// <summary>sentencepiece's OneCharLen (length from the lead byte's high nibble), clipped to the text.</summary>
    static int CharLength(ReadOnlySpan<byte> text, int at) =>
        Math.Min(text[at] switch { < 0xC0 => 1, < 0xE0 => 2, < 0xF0 => 3, _ => 4 }, text.Length - at);
}
