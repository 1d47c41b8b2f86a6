using PldrGen.Runtime.Kernels;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>
/// The tensors of a Hugging Face pldrllm checkpoint (the names of the authors' <c>state_dict()</c>), spelled once:
/// the manifest a checkpoint is checked against and the reader of its weights both come from here.
/// </summary>
public static class PldrTensors
{
    internal const string Weight = ".weight", Bias = ".bias";
    internal const string GluW1 = ".gluw1", GluW2 = ".gluw2", GluW3 = ".gluw3";
    internal static readonly string[] PlgaParameters = [".Wlst", ".blst", ".pwlst", ".alst", ".balst"];

    const string Embedding = "decoder.embedding.weight";
    const string InputNorm = "decoder.layernorm1";
    const string Output = "final_layer";
    const string PastGValues = "decoder.past_G_values";
    const string PastGValuesStatus = "decoder.past_G_values_status";
    const string Query = "mha1.wq", Key = "mha1.wk", Value = "mha1.wv", Dense = "mha1.dense";
    const string MetricNorm = "mha1.layernorm1", Plga = "mha1.plgatt_layer";
    const string FeedForward = "ffn", Norm1 = "layernorm1", Norm2 = "layernorm2";

    static string Layer(int l) => $"decoder.dec_layers.{l}.";
    static string MetricGlu(int r, int n) => $"mha1.reslayerAs.{r}.denseAs.{n}";
    static string MetricBlockNorm(int r) => $"mha1.reslayerAs.{r}.layernormA";

    /// <summary>Every tensor of a checkpoint of this shape with its exact shape; loading refuses any other set.</summary>
    public static IReadOnlyList<TensorShape> Manifest(PldrConfig c)
    {
        int d = c.HiddenSize, dk = c.HeadDim;
        var m = new List<TensorShape> { new(Embedding, [c.VocabSize, d]) };
        AddNorm(InputNorm, d);
        AddLinear(Output, c.VocabSize, d, c.FinalBias);
        if (!c.LearnedG)
        {
            m.Add(new(PastGValues, [c.NumHiddenLayers, 3, 1, c.NumAttentionHeads, dk, dk]));
            m.Add(new(PastGValuesStatus, [c.NumHiddenLayers]));
        }
        for (int l = 0; l < c.NumHiddenLayers; l++)
        {
            string p = Layer(l);
            foreach (var name in new[] { Query, Key, Value, Dense }) AddLinear(p + name, d, d, c.AttentionBias);
            if (c.LearnedG)
            {
                AddNorm(p + MetricNorm, dk);
                for (int r = 0; r < c.NumReslayerA; r++)
                {
                    for (int n = 0; n < c.NumDenseA; n++) AddGlu(p + MetricGlu(r, n), dk, c.ADff);
                    AddNorm(p + MetricBlockNorm(r), dk);
                }
                foreach (var name in PlgaParameters) m.Add(new(p + Plga + name, [c.NumAttentionHeads, dk, dk]));
            }
            AddGlu(p + FeedForward, d, c.IntermediateSize);
            AddNorm(p + Norm1, d);
            AddNorm(p + Norm2, d);
        }
        return m;

        void AddLinear(string prefix, int outDim, int inDim, bool bias)
        {
            m.Add(new(prefix + Weight, [outDim, inDim]));
            if (bias) m.Add(new(prefix + Bias, [outDim]));
        }
        void AddNorm(string prefix, int dim)
        {
            m.Add(new(prefix + Weight, [dim]));
            m.Add(new(prefix + Bias, [dim]));
        }
        void AddGlu(string prefix, int inDim, int hidden)
        {
            AddLinear(prefix + GluW1, hidden, inDim, c.GluBias);
            AddLinear(prefix + GluW2, hidden, inDim, c.GluBias);
            AddLinear(prefix + GluW3, inDim, hidden, c.GluBias);
        }
    }

    /// <summary>Reads the weights of a checkpoint already checked against <see cref="Manifest"/> of the same shape.</summary>
    public static ModelWeights ReadWeights(Checkpoint checkpoint, PldrConfig c)
    {
        int d = c.HiddenSize, dk = c.HeadDim;
        var layers = new DecoderLayerWeights[c.NumHiddenLayers];
        for (int l = 0; l < layers.Length; l++)
        {
            string p = Layer(l);
            var metricLearner = new ResBlockWeights[c.NumReslayerA];
            for (int r = 0; r < metricLearner.Length; r++)
            {
                var glus = new GluWeights[c.NumDenseA];
                for (int n = 0; n < glus.Length; n++) glus[n] = checkpoint.Glu(p + MetricGlu(r, n), dk, c.ADff, dk, c.GluBias);
                metricLearner[r] = new ResBlockWeights(glus, checkpoint.Norm(p + MetricBlockNorm(r)));
            }
            layers[l] = new DecoderLayerWeights(
                checkpoint.Linear(p + Query, d, d, c.AttentionBias), checkpoint.Linear(p + Key, d, d, c.AttentionBias),
                checkpoint.Linear(p + Value, d, d, c.AttentionBias), checkpoint.Linear(p + Dense, d, d, c.AttentionBias),
                c.LearnedG ? checkpoint.Norm(p + MetricNorm) : new NormWeights([], []), metricLearner,
                c.LearnedG ? checkpoint.Plga(p + Plga) : null,
                checkpoint.Glu(p + FeedForward, d, c.IntermediateSize, d, c.GluBias),
                checkpoint.Norm(p + Norm1), checkpoint.Norm(p + Norm2));
        }
        return new ModelWeights(
            checkpoint.Matrix(Embedding, c.VocabSize, d), checkpoint.Norm(InputNorm), layers,
            checkpoint.Linear(Output, c.VocabSize, d, c.FinalBias),
            c.LearnedG ? null : CustomG.FromPastGValues(checkpoint.Read(PastGValues), c.NumHiddenLayers, c.NumAttentionHeads, dk));
    }
}
