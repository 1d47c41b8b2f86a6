using PldrGen.Runtime.Research;
using PldrGen.Runtime.Text;
using PldrGen.Tests.Models;
using Xunit;
using Xunit.Abstractions;

namespace PldrGen.Tests.Research;

/// <summary>Perplexity and loglikelihood on the demo model against the authors' numbers (usage.json).</summary>
public sealed class ScoringTests(ITestOutputHelper output)
{
    const double RelativeTolerance = 1e-5;

    static PldrTokenizer Tokenizer => PldrTokenizer.Load(Fixtures.PydocTokenizer);

    [Fact]
    public void Perplexity_of_the_held_out_text_matches_the_authors_code()
    {
        var expected = UsageFixture.Root.GetProperty("perplexity");
        var tokens = Tokenizer.Encode(expected.GetProperty("text").GetString()!);
        int window = expected.GetProperty("window").GetInt32();
        var result = Perplexity.Compute(CompiledModels.Load("pldr-tiny-pydoc"), tokens, window, window);

        Assert.Equal(expected.GetProperty("tokens").GetInt32(), result.Tokens);
        Assert.Equal(expected.GetProperty("scored").GetInt32(), result.Scored);
        AssertRelative("mean_nll", expected.GetProperty("mean_nll").GetDouble(), result.MeanNll);
        AssertRelative("ppl", expected.GetProperty("ppl").GetDouble(), result.Perplexity);
    }

    [Fact]
    public void A_sliding_window_scores_each_token_once_with_the_context_its_window_gives()
    {
        var tokens = Tokenizer.Encode(UsageFixture.Root.GetProperty("perplexity").GetProperty("text").GetString()!)[..700];
        var model = CompiledModels.Load("pldr-tiny-pydoc");
        var sliding = Perplexity.Compute(model, tokens, 256, 128);
        Assert.Equal(tokens.Length - 1, sliding.Scored);

        // windows [0,256) [128,384) [256,512) [384,640) [512,700): each scores what the one before did not
        (int Start, int From, int End)[] windows = [(0, 1, 256), (128, 256, 384), (256, 384, 512), (384, 512, 640), (512, 640, 700)];
        double nll = -windows.Sum(w => Loglikelihood.Compute(model, tokens[w.Start..w.From], tokens[w.From..w.End]).LogProb);
        AssertRelative("sliding mean NLL vs the windows scored one by one", nll / sliding.Scored, sliding.MeanNll, 1e-12);
    }

    public static TheoryData<int> Requests => new(Enumerable.Range(0, UsageFixture.Root.GetProperty("loglikelihood").GetArrayLength()));

    [Theory, MemberData(nameof(Requests))]
    public void Loglikelihood_matches_the_authors_code(int index)
    {
        var request = UsageFixture.Root.GetProperty("loglikelihood")[index];
        string context = request.GetProperty("context").GetString()!, continuation = request.GetProperty("continuation").GetString()!;
        var (contextIds, continuationIds) = Scoring.Split(Tokenizer, context, continuation);
        Assert.Equal(UsageFixture.Ids(request.GetProperty("context_ids")), contextIds);
        Assert.Equal(UsageFixture.Ids(request.GetProperty("continuation_ids")), continuationIds);

        var result = Loglikelihood.Compute(CompiledModels.Load("pldr-tiny-pydoc"), contextIds, continuationIds);
        AssertRelative($"logprob of '{continuation}'", request.GetProperty("logprob").GetDouble(), result.LogProb);
        Assert.Equal(request.GetProperty("is_greedy").GetBoolean(), result.IsGreedy);
    }

    void AssertRelative(string what, double expected, double actual, double tolerance = RelativeTolerance)
    {
        double relative = Math.Abs(actual - expected) / Math.Abs(expected);
        output.WriteLine($"{what}: expected {expected:R}, got {actual:R}, relative error {relative:E2}");
        Assert.True(relative <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (relative error {relative:E2} > {tolerance:E0})");
    }
}
