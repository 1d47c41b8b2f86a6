using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Runtime;

/// <summary>A probe sees every named intermediate of the forward pass (llama.cpp's <c>cb(cur, name, il)</c>).</summary>
public delegate void TensorProbe(string name, int layer, ReadOnlySpan<float> values);

/// <summary>
/// A compiled PLDR-LLM with its run state: what the generator emits per spec, on <see cref="PldrModel{TSequence}"/>.
/// One instance serves one sequence at a time; its buffers (KV-cache, frozen A, G-cache slot, scratch) are allocated
/// once, and decode steps allocate nothing.
/// </summary>
public interface IPldrModel
{
    PldrModelInfo Info { get; }

    /// <summary>Tokens held in the caches (the position the next decoded token takes).</summary>
    int Position { get; }

    /// <summary>
    /// KV-cache (default true): a decode step computes only its own position, with A frozen at its prefill value.
    /// Off: every step re-runs the whole growing sequence, so A follows the input (the authors' enable_kvcache).
    /// </summary>
    bool UseKvCache { get; set; }

    /// <summary>
    /// G-cache (default true): decode steps reuse G_LM from the prefill. Off: G is recomputed every step, from the
    /// frozen A with the KV-cache, from the whole sequence without it (the authors' enable_Gcache).
    /// </summary>
    bool UseGCache { get; set; }

    TensorProbe? Probe { get; set; }

    /// <summary>Forgets the sequence (keeps an injected G-cache).</summary>
    void Reset();

    /// <summary>Runs the prompt from position 0 and returns the logits of its last position.</summary>
    ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens);

    /// <summary>Runs the prompt from position 0 and writes the logits of every position to <paramref name="logits"/> [S, V].</summary>
    void Prefill(ReadOnlySpan<int> tokens, Span<float> logits);

    /// <summary>Appends one token and returns the logits of its position.</summary>
    ReadOnlySpan<float> Decode(int token);

    /// <summary>The deductive outputs after the last prefill (A, A_LM, G_LM per layer): a copy, to save or inject elsewhere.</summary>
    GCache CaptureGCache();

    /// <summary>Uses <paramref name="cache"/>'s G_LM from the next prefill on, so the metric learner never runs.</summary>
    void InjectGCache(GCache cache);

    /// <summary>Goes back to computing G (or, for custom-G models, to the checkpoint's G).</summary>
    void ClearInjectedGCache();
}

/// <summary>What the command line needs to know about a compiled spec without loading it.</summary>
public sealed record PldrModelInfo(string TypeName, PldrConfig Config,
    Func<string, Kernels.WeightPrecision?, IProgress<CheckpointProgress>?, IPldrModel> Loader, int EosToken)
{
    /// <summary>
    /// Loads a checkpoint folder of this shape; weight matrices as stored unless a precision is given, and
    /// <paramref name="progress"/> told how many bytes of weights have been read.
    /// </summary>
    public IPldrModel Load(string directory, Kernels.WeightPrecision? precision = null, IProgress<CheckpointProgress>? progress = null) =>
        Loader(directory, precision, progress);

    public string Name => TypeName[(TypeName.LastIndexOf('.') + 1)..];
}
