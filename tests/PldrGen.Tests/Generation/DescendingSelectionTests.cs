using PldrGen.Runtime.Generation;
using Xunit;

namespace PldrGen.Tests.Generation;

/// <summary>The partial selection against a full sort, for ranks (top-k) and weight totals (top-p), ties included.</summary>
public sealed class DescendingSelectionTests
{
    /// <summary>The definition, on a sorted copy: the value before the first position whose running total exceeds target.</summary>
    static float Sorted(float[] values, float[]? weights, double target)
    {
        var order = Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ToArray();
        double total = 0;
        for (int j = 0; j < order.Length; j++)
        {
            total += weights is null ? 1 : weights[order[j]];
            if (total > target) return values[order[Math.Max(j - 1, 0)]];
        }
        return values[order[^1]];
    }

    [Theory]
    [InlineData(32000, 1.0, 0)]
    [InlineData(32000, 0.001, 0)]
    [InlineData(4096, 3.0, 4)]     // values rounded to quarters: many ties
    [InlineData(200, 1.0, 0)]      // below the bucketing size: sorted directly
    [InlineData(5000, 1e6, 0)]     // one huge spread
    public void Ranks_and_totals_match_a_full_sort(int size, double sigma, int quantum)
    {
        var random = new Random(size + quantum);
        var selection = new DescendingSelection(size);
        for (int trial = 0; trial < 40; trial++)
        {
            var values = Enumerable.Range(0, size).Select(_ => (float)(sigma * (random.NextDouble() - 0.5) * (trial % 5 == 0 ? random.NextDouble() : 1))).ToArray();
            if (quantum > 0) values = values.Select(v => MathF.Round(v * quantum) / quantum).ToArray();
            if (trial % 7 == 0) values[random.Next(size)] = (float)(sigma * 50); // an outlier far above the rest
            int k = 1 + random.Next(size);
            Assert.Equal(Sorted(values, null, k), selection.LastWithin(values, default, k));
            // Binary fractions as weights: every running sum is exact, so the two orders cannot round apart.
            var weights = values.Select(_ => random.Next(1, 64) / 64f).ToArray();
            double target = weights.Sum(w => (double)w) * random.NextDouble();
            Assert.Equal(Sorted(values, weights, target), selection.LastWithin(values, weights, target));
        }
    }
}
