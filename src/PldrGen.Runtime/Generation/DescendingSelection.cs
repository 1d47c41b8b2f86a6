namespace PldrGen.Runtime.Generation;

/// <summary>
/// Finds where a running total crosses a target in the descending order of a vocabulary's values without sorting
/// it: the candidates are bucketed by value, only the bucket where the total crosses stays a candidate, and that is
/// repeated until few remain, which are sorted. A call reads the vocabulary once or twice and allocates nothing.
/// </summary>
sealed class DescendingSelection
{
    const int Buckets = 1024, SortAtMost = 256;
    readonly int[] _all, _candidates;
    readonly ushort[] _bucketOf;      // [candidate] its bucket, from the counting pass
    readonly float[] _sortKeys;
    readonly int[] _count = new int[Buckets];
    readonly double[] _weight = new double[Buckets];
    readonly float[] _lowest = new float[Buckets];

    public DescendingSelection(int size)
    {
        _all = new int[size];
        for (int i = 0; i < size; i++) _all[i] = i;
        _candidates = new int[size];
        _bucketOf = new ushort[size];
        _sortKeys = new float[size];
    }

    /// <summary>
    /// Walking <paramref name="values"/> from the largest down and summing <paramref name="weights"/> (1 each when
    /// empty): the value just before the first position where the sum exceeds <paramref name="target"/>; the
    /// largest value if the first already does; the smallest if none does. Keeping every value ≥ the result keeps
    /// the longest prefix whose sum stays ≤ target (at least one), with its ties.
    /// </summary>
    public float LastWithin(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, double target)
    {
        int length = values.Length;
        ReadOnlySpan<int> candidates = _all.AsSpan(0, length);
        double above = 0;                     // the weight of the values known to rank above every candidate
        float lowestAbove = float.NaN;        // the smallest of them (NaN: none yet)
        while (candidates.Length > SortAtMost)
        {
            float high = float.NegativeInfinity, low = float.PositiveInfinity;
            foreach (int i in candidates)
            {
                high = MathF.Max(high, values[i]);
                low = MathF.Min(low, values[i]);
            }
            if (!(high > low)) break;         // all tied: the sort below walks them
            // Monotone in the value (ties share a bucket); the largest lands in bucket 0, the smallest in the last.
            float scale = (float)Math.Min((Buckets - 1) / ((double)high - low), float.MaxValue);
            Array.Clear(_count);
            Array.Clear(_weight);
            _lowest.AsSpan().Fill(float.PositiveInfinity);
            for (int c = 0; c < candidates.Length; c++)
            {
                int i = candidates[c];
                float v = values[i];
                int b = (int)MathF.Min((high - v) * scale, Buckets - 1);
                _bucketOf[c] = (ushort)b;
                _count[b]++;
                _weight[b] += weights.IsEmpty ? 1 : weights[i];
                _lowest[b] = MathF.Min(_lowest[b], v);
            }
            int crossing = -1;
            for (int b = 0; b < Buckets && crossing < 0; b++)
            {
                if (_count[b] == 0) continue;
                if (above + _weight[b] > target) crossing = b;
                else (above, lowestAbove) = (above + _weight[b], _lowest[b]);
            }
            if (crossing < 0) return lowestAbove;
            if (_count[crossing] == candidates.Length) break; // no progress (values spanning more than float's range)
            int kept = 0;
            for (int c = 0; c < candidates.Length; c++)
                if (_bucketOf[c] == crossing) _candidates[kept++] = candidates[c];
            candidates = _candidates.AsSpan(0, kept);
        }
        return SortAndWalk(values, weights, candidates, target, above, lowestAbove);
    }

    float SortAndWalk(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, ReadOnlySpan<int> candidates, double target, double above, float lowestAbove)
    {
        var keys = _sortKeys.AsSpan(0, candidates.Length);
        var items = _candidates.AsSpan(0, candidates.Length);
        if (!candidates.Overlaps(items)) candidates.CopyTo(items); // still the whole vocabulary
        for (int c = 0; c < items.Length; c++) keys[c] = -values[items[c]];
        keys.Sort(items);                   // ascending keys: descending values
        foreach (int i in items)
        {
            above += weights.IsEmpty ? 1 : weights[i];
            if (above > target) return float.IsNaN(lowestAbove) ? values[i] : lowestAbove;
            lowestAbove = values[i];
        }
        return lowestAbove;                 // the bucket's sum crossed, its element-wise sum did not: keep it all
    }
}
