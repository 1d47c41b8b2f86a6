namespace PldrGen.Runtime.Text;

/// <summary>
/// A byte trie of piece texts: node 0 is the root, each edge one byte, each node the id of the piece ending there.
/// Walks are bounded by the longest piece (<see cref="ModelValidation.MaxPieceBytes"/>), so matching at every position
/// of a text costs at most that many steps per byte.
/// </summary>
/// <param name="maxNodes">The total bytes of the pieces to come, which bounds the nodes: sized once, never regrown.</param>
sealed class PieceTrie(int maxNodes)
{
    readonly Dictionary<long, int> _edges = new(maxNodes);   // (node << 8 | byte) -> child node
    readonly List<int> _pieceAtNode = new(maxNodes + 1) { -1 }; // piece id ending at each node, -1 for none

    public void Add(ReadOnlySpan<byte> text, int id)
    {
        int node = 0;
        foreach (byte b in text)
        {
            if (!_edges.TryGetValue(Edge(node, b), out int child))
            {
                child = _pieceAtNode.Count;
                _pieceAtNode.Add(-1);
                _edges.Add(Edge(node, b), child);
            }
            node = child;
        }
        _pieceAtNode[node] = id;
    }

    /// <summary>Follows the edge of <paramref name="b"/> from <paramref name="node"/>; false when there is none.</summary>
    public bool Step(ref int node, byte b) => _edges.TryGetValue(Edge(node, b), out node);

    /// <summary>The id of the piece that ends at <paramref name="node"/>, or -1.</summary>
    public int PieceAt(int node) => _pieceAtNode[node];

    static long Edge(int node, byte b) => (long)node << 8 | b;
}
