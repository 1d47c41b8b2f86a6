using PldrGen.Runtime.Text;

namespace PldrGen.Runtime.Research;

/// <summary>How a (context, continuation) request becomes tokens.</summary>
public static class Scoring
{
    /// <summary>
    /// The context's ids, and the continuation's: the tokens that encoding context + continuation adds after the
    /// context's own ids. Where appending the continuation re-segments the context's end, the split is after the
    /// longest common prefix, so the scored tokens are still exactly what the whole text encodes to.
    /// </summary>
    public static (int[] Context, int[] Continuation) Split(PldrTokenizer tokenizer, string context, string continuation)
    {
        var whole = tokenizer.Encode(context + continuation);
        var alone = tokenizer.Encode(context);
        int common = 0;
        while (common < alone.Length && common < whole.Length && alone[common] == whole[common]) common++;
        return (whole[..common], whole[common..]);
    }
}
