using PldrGen.Runtime.Generation;
using Xunit;

namespace PldrGen.Tests.Generation;

/// <summary>The top-n alternatives against a full sort of the log-probabilities, and the edge counts.</summary>
public sealed class TokenLogProbsTests
{
    static readonly float[] Logits = [0.5f, 2f, -1f, 2f, 3f, 0f];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(20)]
    public void Top_n_is_the_sorted_head_of_the_log_probabilities_ties_by_lower_id(int count)
    {
        float logSumExp = TokenLogProbs.LogSumExp(Logits);
        var expected = Logits.Select((x, id) => new TokenLogProb(id, x - logSumExp))
            .OrderByDescending(t => t.LogProb).ThenBy(t => t.Id).Take(count).ToArray();
        Assert.Equal(expected, TokenLogProbs.Top(Logits, logSumExp, count));
    }

    [Fact]
    public void Top_of_an_empty_vocabulary_is_empty() => Assert.Empty(TokenLogProbs.Top([], 0, 5));
}
