using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace PldrGen.Runtime.Generation;

/// <summary>
/// Finds where a running total crosses a target in the descending order of a vocabulary's values without sorting
/// it: the values are bucketed by value (vectorised), only the bucket where the total crosses stays a candidate,
/// and that repeats on the bucket's values until few remain, which are sorted. A level reads its values three
/// times (range, histogram, the crossing bucket's values) and allocates nothing.
/// </summary>
sealed class DescendingSelection(int size)
{
    const int Buckets = 1024, SortAtMost = 256;
    static readonly int Lanes = Vector256<float>.Count;
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
            var bucketing = new Bucketing(high, low);
            Histogram(values, weights, bucketing);
            int crossing = -1;
            for (int b = 0; b < Buckets && crossing < 0; b++)
            {
                double weight = unit ? _count[b] : _weight[b];
                if (_count[b] == 0) continue;
                if (above + weight > target) crossing = b;
                else (above, anyAbove) = (above + weight, true);
            }
            if (crossing < 0) return low;
            int kept = KeepBucket(values, weights, bucketing, crossing);
            values = _values.AsSpan(0, kept);
            weights = unit ? default : _weights.AsSpan(0, kept);
        }
        return SortAndWalk(vocabulary, values, weights, target, above, anyAbove);
    }

    /// <summary>bucket = ⌊(high − v)·(B−1)/(high − low)⌋: monotone in v (ties share one), the largest in bucket 0.</summary>
    readonly struct Bucketing(float high, float low)
    {
        readonly float _high = high, _scale = (float)Math.Min((Buckets - 1) / ((double)high - low), float.MaxValue);

        public int Of(float value) => (int)Math.Min((_high - value) * _scale, Buckets - 1);

        /// <summary>The buckets of eight values: the same float arithmetic as <see cref="Of(float)"/>, lane by lane.</summary>
        public Vector256<int> Of(Vector256<float> values) =>
            Vector256.ConvertToInt32(Vector256.Min((Vector256.Create(_high) - values) * Vector256.Create(_scale), Vector256.Create((float)(Buckets - 1))));
    }

    /// <summary>Counts and weighs each bucket's values, in the values' order (so each bucket's sum is the same every call).</summary>
    unsafe void Histogram(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, Bucketing bucketing)
    {
        Array.Clear(_count);
        Array.Clear(_weight);
        int* buckets = stackalloc int[Lanes];
        bool weighed = !weights.IsEmpty;
        fixed (int* count = _count)
        fixed (double* weightOf = _weight)
        fixed (float* v = values, w = weights)
        {
            int i = 0;
            for (; Vector256.IsHardwareAccelerated && i + Lanes <= values.Length; i += Lanes)
            {
                bucketing.Of(Vector256.Load(v + i)).Store(buckets);
                for (int j = 0; j < Lanes; j++) count[buckets[j]]++;
                if (weighed)
                    for (int j = 0; j < Lanes; j++) weightOf[buckets[j]] += w[i + j];
            }
            for (; i < values.Length; i++)
            {
                int b = bucketing.Of(v[i]);
                count[b]++;
                if (weighed) weightOf[b] += w[i];
            }
        }
    }

    /// <summary>
    /// Copies the values (and weights) of bucket <paramref name="crossing"/> to the front of the candidate buffers, in
    /// order; in place from the second level on, where the kept count never passes the position read.
    /// </summary>
    int KeepBucket(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, Bucketing bucketing, int crossing)
    {
        int kept = 0, i = 0;
        var wanted = Vector256.Create(crossing);
        for (; Vector256.IsHardwareAccelerated && i + Lanes <= values.Length; i += Lanes)
        {
            uint matches = Vector256.Equals(bucketing.Of(Vector256.Create(values.Slice(i, Lanes))), wanted).ExtractMostSignificantBits();
            for (; matches != 0; matches &= matches - 1)
                Keep(values, weights, i + BitOperations.TrailingZeroCount(matches), ref kept);
        }
        for (; i < values.Length; i++)
            if (bucketing.Of(values[i]) == crossing) Keep(values, weights, i, ref kept);
        return kept;
    }

    void Keep(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, int index, ref int kept)
    {
        _values[kept] = values[index];
        if (!weights.IsEmpty) _weights[kept] = weights[index];
        kept++;
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
