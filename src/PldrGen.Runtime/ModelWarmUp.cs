namespace PldrGen.Runtime;

/// <summary>
/// A warm-up pass at load, as llama.cpp's tools run one: a short prefill and one decode step, then
/// <see cref="IPldrModel.Reset"/>. The JIT compiles the kernels and the scratch memory is first touched here rather
/// than inside the user's first prompt, so that prompt runs at steady speed; the cost moves into load, where
/// <c>pldr --stats</c> reports it as <c>warmup_ms</c>.
/// </summary>
public static class ModelWarmUp
{
    /// <summary>
    /// Tokens of the warm-up prefill: enough rows for a full prefill tile at every precision (6 rows at fp32 and
    /// 16-bit, 4 at int8) and a remainder after it, so the first prompt finds every GEMM path compiled.
    /// </summary>
    public const int PrefillTokens = 8;

    /// <summary>Runs the warm-up pass and forgets it; an injected G-cache, the probe and the caches' options stay.</summary>
    public static void WarmUp(this IPldrModel model)
    {
        var config = model.Info.Config;
        int length = Math.Min(PrefillTokens, config.MaxPositionEmbeddings - 1);
        if (length < 1) return; // a one-position context has room for no decode step to warm
        var tokens = new int[length];
        for (int i = 0; i < length; i++) tokens[i] = i % config.VocabSize;
        var probe = model.Probe;
        model.Probe = null; // the warm-up's intermediates are no one's
        try
        {
            model.Prefill(tokens);
            model.Decode(0);
        }
        finally
        {
            model.Reset();
            model.Probe = probe;
        }
    }
}
