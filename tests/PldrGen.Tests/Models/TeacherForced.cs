using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Tests.Models;

/// <summary>
/// Greedy decoding against a fixture, teacher-forced: every step decodes the fixture's token, so one wrong argmax
/// does not hide the logits of the steps after it. Shared by the CPU and the ILGPU model tests.
/// </summary>
public static class TeacherForced
{
    /// <summary>The argmax of every step and the logits rows [T, V] (row 0 = the prompt's last position).</summary>
    public static (int[] Tokens, float[] Logits) Greedy(IPldrModel model, int[] prompt, int[] fixtureTokens)
    {
        int vocab = model.Info.Config.VocabSize;
        var tokens = new int[fixtureTokens.Length];
        var logits = new float[fixtureTokens.Length * vocab];
        var row = model.Prefill(prompt);
        for (int step = 0; step < tokens.Length; step++)
        {
            row.CopyTo(logits.AsSpan(step * vocab));
            tokens[step] = ArgMax(row);
            if (step + 1 < tokens.Length) row = model.Decode(fixtureTokens[step]);
        }
        return (tokens, logits);
    }

    /// <summary>
    /// Greedy decoding of <paramref name="prompt"/> against the fixture's <c>{kind}.tokens</c>/<c>{kind}.logits</c>:
    /// tokens exact, logits within <paramref name="tolerance"/>. Returns the logits and their errors.
    /// </summary>
    public static (float[] Logits, Errors Errors) Check(string what, IPldrModel model, SafeTensorsFile reference, int[] prompt, string kind, double tolerance)
    {
        var expectedTokens = reference.ReadInt32($"{kind}.tokens");
        var (tokens, logits) = Greedy(model, prompt, expectedTokens);
        Compare.AssertTokens($"{what} {kind}.tokens", expectedTokens, tokens);
        var errors = Compare.AssertClose($"{what} {kind}.logits", reference.ReadFloat32($"{kind}.logits"), logits, tolerance, rowLength: model.Info.Config.VocabSize);
        return (logits, errors);
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
