using System.Diagnostics;
using System.Globalization;
using PldrGen.Runtime.Engine;

namespace PldrGen.Bench;

/// <summary>
/// The batched decode step on the 110M shape at 1 and 16 rows, interleaved (a quick look, not a target): 16 slots
/// prefilled with different 128-token prompts, then rounds of 16 steps of one row and 16 steps of all sixteen, the
/// median step in ms of each. <c>-- batch-step [rounds] [f32|bf16|f16|int8]</c>.
/// </summary>
static class BatchStepProbe
{
    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var precision = PldrGen.Runtime.Kernels.WeightPrecisionNames.Parse(args.Length > 1 ? args[1] : "f32");
        var dir = RandomCheckpoint.Create(PldrGen.Models.PldrV51_110M.ModelInfo, PldrGen.Models.PldrV51_110M.TensorManifest, bf16: false);
        var model = PldrGen.Models.PldrV51_110M.Load(dir, precision);
        const int rows = 16, steps = 16;
        var slots = ((IBatchedModel)model).CreateSlots(rows);
        int vocab = model.Info.Config.VocabSize;
        for (int s = 0; s < rows; s++) slots.Models[s].Prefill(Enumerable.Range(4 + 7 * s, 128).ToArray());
        int[] all = [.. Enumerable.Range(0, rows)], tokens = [.. Enumerable.Range(100, rows)];
        var logits = new float[rows * vocab];
        var single = new List<double>();
        var batched = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            foreach (var (list, count) in new[] { (single, 1), (batched, rows) })
                for (int i = 0; i < steps; i++)
                {
                    var clock = Stopwatch.StartNew();
                    slots.Step(all.AsSpan(0, count), tokens.AsSpan(0, count), logits);
                    list.Add(clock.Elapsed.TotalMilliseconds);
                }
        }
        double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{precision} batched step, median ms: 1 row {Median(single):F2} | {rows} rows {Median(batched):F2} ({Median(batched) / Median(single):F2}×)"));
        return 0;
    }
}
