using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Generation;

/// <summary>
/// Finds where a running total crosses a target in the descending order of a vocabulary's values without sorting
/// it: the values are bucketed by value (vectorised), only the bucket where the total crosses stays a candidate,
/// and that repeats on the bucket's values until few remain, which are sorted. A call reads the vocabulary about
/// four times and allocates nothing.
/// </summary>
sealed class DescendingSelection(int size)
{
    const int Buckets = 1024, SortAtMost = 256;
    readonly int[] _bucketOf = new int[size];      // [value] its bucket at the current level
    readonly float[] _values = new float[size];    // the crossing bucket's values, compacted
    readonly float[] _weights = new float[size];   // and their weights
    readonly int[] _count = new int[Buckets];
    readonly double[] _weight = new double[Buckets];

    /// <summary>
    /// Walking <paramref name="values"/> from the largest down and summing <paramref name="weights"/> (1 each when
    /// empty): the value just before the first position where the sum exceeds <paramref name="target"/>; the
    /// largest value if the first already does; the smallest if none does. Keeping every value ≥ the result keeps
    /// the longest prefix whose sum stays ≤ target (at least one), with its ties.
    /// </summary>
    public float LastWithin(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, double target)
    {
        var vocabulary = values;
        bool unit = weights.IsEmpty;
        double above = 0;                     // the weight of the values known to rank above every candidate
        bool anyAbove = false;
        while (values.Length > SortAtMost)
        {
            float high = TensorPrimitives.Max(values), low = TensorPrimitives.Min(values);
            if (!(high > low) || !float.IsFinite(high - low)) break; // all tied (or unbucketable): the sort walks them
            var bucketOf = _bucketOf.AsSpan(0, values.Length);
            BucketIndices(values, high, low, bucketOf);
            Array.Clear(_count);
            Array.Clear(_weight);
            if (unit)
                foreach (int b in bucketOf) _count[b]++;
            else
                for (int i = 0; i < bucketOf.Length; i++)
                {
                    _count[bucketOf[i]]++;
                    _weight[bucketOf[i]] += weights[i];
                }
            int crossing = -1;
            for (int b = 0; b < Buckets && crossing < 0; b++)
            {
                double weight = unit ? _count[b] : _weight[b];
                if (_count[b] == 0) continue;
                if (above + weight > target) crossing = b;
                else (above, anyAbove) = (above + weight, true);
            }
            if (crossing < 0) return low;
            int kept = 0;
            for (int i = 0; i < bucketOf.Length; i++)    // in place from the second level on: kept ≤ i
            {
                if (bucketOf[i] != crossing) continue;
                _values[kept] = values[i];
                if (!unit) _weights[kept] = weights[i];
                kept++;
            }
            values = _values.AsSpan(0, kept);
            weights = unit ? default : _weights.AsSpan(0, kept);
        }
        return SortAndWalk(vocabulary, values, weights, target, above, anyAbove);
    }

    /// <summary>bucket = ⌊(high − v)·(B−1)/(high − low)⌋: monotone in v (ties share one), the largest in bucket 0.</summary>
    static void BucketIndices(ReadOnlySpan<float> values, float high, float low, Span<int> bucketOf)
    {
        float scale = (float)Math.Min((Buckets - 1) / ((double)high - low), float.MaxValue);
        var vHigh = Vector256.Create(high);
        var vScale = Vector256.Create(scale);
        var last = Vector256.Create((float)(Buckets - 1));
        int i = 0;
        for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
        {
            var b = Vector256.Min((vHigh - Vector256.Create(values.Slice(i, Vector256<float>.Count))) * vScale, last);
            Vector256.ConvertToInt32(b).CopyTo(bucketOf.Slice(i, Vector256<int>.Count));
        }
        for (; i < values.Length; i++) bucketOf[i] = (int)Math.Min((high - values[i]) * scale, Buckets - 1);
    }

    /// <summary>The smallest value above <paramref name="bound"/>: the last of those ranking above the candidates.</summary>
    static float LowestAbove(ReadOnlySpan<float> vocabulary, float bound)
    {
        float lowest = float.PositiveInfinity;
        foreach (float v in vocabulary)
            if (v > bound && v < lowest) lowest = v;
        return lowest;
    }

    /// <summary>Sorts the last candidates and walks them; <paramref name="above"/> is the weight of every larger value.</summary>
    float SortAndWalk(ReadOnlySpan<float> vocabulary, ReadOnlySpan<float> values, ReadOnlySpan<float> weights, double target, double above, bool anyAbove)
    {
        var keys = _values.AsSpan(0, values.Length);
        var items = _weights.AsSpan(0, values.Length);
        for (int i = 0; i < values.Length; i++) keys[i] = -values[i]; // ascending keys: descending values
        if (weights.IsEmpty) keys.Sort();
        else
        {
            weights.CopyTo(items);
            keys.Sort(items);
        }
        for (int i = 0; i < keys.Length; i++)
        {
            above += weights.IsEmpty ? 1 : items[i];
            if (above > target)
                return i > 0 ? -keys[i - 1] : anyAbove ? LowestAbove(vocabulary, -keys[0]) : -keys[0];
        }
        return -keys[^1];                   // the bucket's sum crossed, its element-wise sum did not: keep it all
    }
}
