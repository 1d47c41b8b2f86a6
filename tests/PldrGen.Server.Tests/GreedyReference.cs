using System.Collections.Concurrent;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Text;

namespace PldrGen.Server.Tests;

/// <summary>
/// What <c>pldr generate --greedy</c> gives on the demo model (its <c>--dump</c> file's generated.tokens and
/// prefill.logits): the reference the server's answers are compared with, computed by another command.
/// </summary>
static class GreedyReference
{
    public const int MaxTokens = 32;

    /// <summary>Prompts of different lengths and subjects; some end early with [END].</summary>
    public static readonly string[] Prompts =
    [
        "The import statement", "A class definition", "The with statement", "Lambda expressions", "The global statement",
        "Coroutines", "The for statement is used to iterate", "Boolean operations", "Slicings", "Comparisons",
        "The return statement", "Function definitions", "Augmented assignment statements", "Identifiers", "Literals", "The yield expression",
    ];

    public static PldrTokenizer Tokenizer { get; } = PldrTokenizer.Load(Path.Combine(PldrProgram.Shipped.DemoModel, "tokenizer.model"));

    static readonly ConcurrentDictionary<string, int[]> Generated = new();

    /// <summary>The first <see cref="MaxTokens"/> greedy tokens after <paramref name="prompt"/> (fewer if [END] comes first).</summary>
    public static int[] Tokens(string prompt) => Generated.GetOrAdd(prompt, p =>
    {
        using var dump = Dump(Tokenizer.EncodePrompt(p), MaxTokens);
        return dump.ReadInt32("generated.tokens");
    });

    /// <summary>The greedy answer to a request for <paramref name="maxTokens"/> tokens: the reference's prefix.</summary>
    public static int[] Tokens(string prompt, int maxTokens) => [.. Tokens(prompt).Take(maxTokens)];

    public static string Text(string prompt, int maxTokens = MaxTokens)
    {
        var ids = Tokenizer.EncodePrompt(prompt);
        return Tokenizer.Decode([.. ids, .. Tokens(prompt, maxTokens)])[Tokenizer.Decode(ids).Length..];
    }

    /// <summary>log-softmax of the prefill logits of <paramref name="ids"/>: the logprob of token t after tokens 0..t−1.</summary>
    public static double[] PromptLogprobs(int[] ids)
    {
        using var dump = Dump(ids, 1);
        var logits = dump.ReadFloat32("prefill.logits");
        int vocab = logits.Length / ids.Length;
        var logprobs = new double[ids.Length - 1];
        for (int t = 1; t < ids.Length; t++)
        {
            var row = logits.AsSpan((t - 1) * vocab, vocab);
            double max = double.NegativeInfinity, sum = 0;
            foreach (float x in row) max = Math.Max(max, x);
            foreach (float x in row) sum += Math.Exp(x - max);
            logprobs[t - 1] = row[ids[t]] - (max + Math.Log(sum));
        }
        return logprobs;
    }

    static SafeTensorsFile Dump(int[] prompt, int maxTokens)
    {
        string file = Path.Combine(Path.GetTempPath(), $"pldr-server-reference-{Guid.NewGuid():N}.safetensors");
        var run = PldrProgram.Shipped.Run("generate", "--greedy", "--tokens", string.Join(",", prompt), "--max-new-tokens", maxTokens.ToString(), "--dump", file);
        if (run.ExitCode != 0) throw new InvalidOperationException("pldr generate failed: " + run.Stderr);
        try { return SafeTensorsFile.Open(file); }
        finally { File.Delete(file); } // the open file stays mapped
    }
}
