using System.Globalization;
using System.Text;
using Xunit;

namespace PldrGen.Tests;

/// <summary>
/// How far <c>actual</c> is from <c>expected</c>: the largest absolute error |a − e| and the largest relative error
/// |a − e| / |e| (infinite where e = 0 and a ≠ 0), with the flat index where each occurs, and the largest |e|
/// (MaxAbs / MaxExpected is the error relative to the tensor's scale).
/// </summary>
public readonly record struct Errors(int Count, double MaxAbs, int MaxAbsIndex, double MaxRel, int MaxRelIndex, double MaxExpected)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"max abs {MaxAbs:E2}, max rel {MaxRel:E2}, abs/max|expected| {(MaxExpected > 0 ? MaxAbs / MaxExpected : 0):E2} ({Count} values)");
}

/// <summary>Tensor and token comparisons whose failures say where and by how much.</summary>
public static class Compare
{
    public static Errors Measure(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
    {
        if (expected.Length != actual.Length)
            throw new ArgumentException($"lengths differ: expected {expected.Length}, actual {actual.Length}");
        double maxAbs = 0, maxRel = 0, maxExpected = 0;
        int absAt = -1, relAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double abs = Math.Abs(a - e);
            double rel = abs == 0 ? 0 : e == 0 ? double.PositiveInfinity : abs / Math.Abs(e);
            if (double.IsNaN(abs)) abs = rel = double.PositiveInfinity;
            if (abs > maxAbs || absAt < 0) { maxAbs = abs; absAt = i; }
            if (rel > maxRel || relAt < 0) { maxRel = rel; relAt = i; }
            maxExpected = Math.Max(maxExpected, Math.Abs(e));
        }
        return new Errors(expected.Length, maxAbs, absAt, maxRel, relAt, maxExpected);
    }

    public static Errors Measure(ReadOnlySpan<float> expected, ReadOnlySpan<double> actual) => Measure(Widen(expected), actual);
    public static Errors Measure(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual) => Measure(Widen(expected), Widen(actual));

    /// <summary>
    /// Asserts |actual − expected| ≤ absTol + relTol·|expected| element by element. On failure the message gives the
    /// max abs and max rel error and the first element outside the tolerance; with <paramref name="rowLength"/> > 0,
    /// indices are printed as [rowName r, index c] (for logits [T, V]: the decoding step and the vocabulary index).
    /// Returns the measured errors.
    /// </summary>
    public static Errors AssertClose(string what, ReadOnlySpan<double> expected, ReadOnlySpan<double> actual,
        double absTol, double relTol = 0, int rowLength = 0, string rowName = "step")
    {
        if (expected.Length != actual.Length)
            Assert.Fail($"{what}: expected {expected.Length} values, got {actual.Length}");
        var errors = Measure(expected, actual);
        int first = -1, failures = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = absTol + relTol * Math.Abs(expected[i]);
            if (!(Math.Abs(actual[i] - expected[i]) <= bound)) // NaN fails too
            {
                failures++;
                if (first < 0) first = i;
            }
        }
        if (failures == 0) return errors;

        string At(int i) => rowLength > 0 ? $"[{rowName} {i / rowLength}, index {i % rowLength}]" : $"[{i}]";
        var (e, a) = (expected.ToArray(), actual.ToArray());
        string Pair(int i) => string.Create(CultureInfo.InvariantCulture, $"expected {e[i]:R}, actual {a[i]:R}");
        Assert.Fail(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {failures} of {expected.Length} values outside |Δ| ≤ {absTol:E1} + {relTol:E1}·|expected|. " +
            $"Max abs error {errors.MaxAbs:E3} at {At(errors.MaxAbsIndex)} ({Pair(errors.MaxAbsIndex)}); " +
            $"max rel error {errors.MaxRel:E3} at {At(errors.MaxRelIndex)} ({Pair(errors.MaxRelIndex)}); " +
            $"first difference at {At(first)}: {Pair(first)}."));
        return errors;
    }

    public static Errors AssertClose(string what, ReadOnlySpan<float> expected, ReadOnlySpan<double> actual,
        double absTol, double relTol = 0, int rowLength = 0, string rowName = "step") =>
        AssertClose(what, Widen(expected), actual, absTol, relTol, rowLength, rowName);

    public static Errors AssertClose(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual,
        double absTol, double relTol = 0, int rowLength = 0, string rowName = "step") =>
        AssertClose(what, Widen(expected), Widen(actual), absTol, relTol, rowLength, rowName);

    /// <summary>Asserts two token sequences are equal; on failure prints the first differing step and both sequences.</summary>
    public static void AssertTokens(string what, int[] expected, int[] actual)
    {
        int n = Math.Min(expected.Length, actual.Length);
        int first = 0;
        while (first < n && expected[first] == actual[first]) first++;
        if (first == n && expected.Length == actual.Length) return;

        var message = new StringBuilder($"{what}: ");
        if (first < n) message.Append($"first difference at step {first}: expected {expected[first]}, actual {actual[first]}");
        else message.Append($"lengths differ after {n} equal tokens: expected {expected.Length}, actual {actual.Length}");
        message.Append($"\n  expected [{string.Join(", ", expected)}]\n  actual   [{string.Join(", ", actual)}]");
        Assert.Fail(message.ToString());
    }

    static double[] Widen(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }
}
