namespace PldrGen.Runtime.Research;

/// <summary>
/// One layer and head over all prompts: the relative Frobenius distance ‖G_p − Ḡ‖ / ‖Ḡ‖ of each prompt's G_LM from
/// the mean Ḡ over prompts (mean and largest), and log|det G_LM| (mean and population standard deviation).
/// </summary>
public sealed record InvarianceHead(int Layer, int Head, double MeanDistance, double MaxDistance, double LogDetMean, double LogDetStd);

public sealed record InvarianceResult(int Prompts, IReadOnlyList<InvarianceHead> Heads)
{
    public double MeanDistance => Heads.Average(h => h.MeanDistance);
    public double MaxDistance => Heads.Max(h => h.MaxDistance);
}

/// <summary>How far G_LM moves with the input (arXiv 2502.13502 claims it barely does): each prompt's prefill G_LM.</summary>
public static class Invariance
{
    public static InvarianceResult Compute(IPldrModel model, IReadOnlyList<int[]> prompts)
    {
        if (prompts.Count < 2) throw new PldrException($"invariance compares prompts: give at least 2, found {prompts.Count}");
        var g = new float[prompts.Count][];
        for (int p = 0; p < prompts.Count; p++)
        {
            model.Prefill(prompts[p]);
            g[p] = model.CaptureGCache().G;
        }
        var config = model.Info.Config;
        int dk = config.HeadDim, block = dk * dk;
        var heads = new List<InvarianceHead>();
        for (int l = 0; l < config.NumHiddenLayers; l++)
            for (int h = 0; h < config.NumAttentionHeads; h++)
            {
                int offset = (l * config.NumAttentionHeads + h) * block;
                var mean = new double[block];
                foreach (var gp in g) for (int i = 0; i < block; i++) mean[i] += gp[offset + i] / (double)prompts.Count;
                double meanNorm = Math.Sqrt(mean.Sum(v => v * v));
                var distances = g.Select(gp => Math.Sqrt(Enumerable.Range(0, block).Sum(i => Square(gp[offset + i] - mean[i]))) / meanNorm).ToArray();
                var logDets = g.Select(gp => LogAbsDeterminant(gp.AsSpan(offset, block), dk)).ToArray();
                double logDetMean = logDets.Average();
                heads.Add(new InvarianceHead(l, h, distances.Average(), distances.Max(), logDetMean, Math.Sqrt(logDets.Average(d => Square(d - logDetMean)))));
            }
        return new InvarianceResult(prompts.Count, heads);
    }

    static double Square(double x) => x * x;

    /// <summary>log|det M| by LU decomposition with partial pivoting, in double; −∞ for a singular matrix.</summary>
    public static double LogAbsDeterminant(ReadOnlySpan<float> matrix, int n)
    {
        var m = new double[n * n];
        for (int i = 0; i < m.Length; i++) m[i] = matrix[i];
        double logDet = 0;
        for (int k = 0; k < n; k++)
        {
            int pivot = k;
            for (int r = k + 1; r < n; r++) if (Math.Abs(m[r * n + k]) > Math.Abs(m[pivot * n + k])) pivot = r;
            if (m[pivot * n + k] == 0) return double.NegativeInfinity;
            if (pivot != k) for (int c = 0; c < n; c++) (m[k * n + c], m[pivot * n + c]) = (m[pivot * n + c], m[k * n + c]);
            logDet += Math.Log(Math.Abs(m[k * n + k]));
            for (int r = k + 1; r < n; r++)
            {
                double factor = m[r * n + k] / m[k * n + k];
                for (int c = k; c < n; c++) m[r * n + c] -= factor * m[k * n + c];
            }
        }
        return logDet;
    }
}
