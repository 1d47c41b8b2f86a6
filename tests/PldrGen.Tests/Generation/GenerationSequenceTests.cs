using PldrGen.Runtime;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Text;
using PldrGen.Tests.Models;
using Xunit;

namespace PldrGen.Tests.Generation;

/// <summary>One request's token loop on the demo model: text pieces, stop reasons, log-probabilities, seeds.</summary>
public sealed class GenerationSequenceTests
{
    const string Prompt = "The import statement";
    static readonly PldrTokenizer Tokenizer = PldrTokenizer.Load(Fixtures.PydocTokenizer);

    static GenerateResult Run(GenerateOptions options, int[]? prompt = null)
    {
        var model = CompiledModels.Load("pldr-tiny-pydoc");
        var config = model.Info.Config;
        prompt ??= Tokenizer.EncodePrompt(Prompt);
        var sequence = new GenerationSequence(prompt, options, Tokenizer, config.VocabSize, config.MaxPositionEmbeddings, model.Info.EosToken);
        var logits = model.Prefill(prompt).ToArray();
        for (var token = sequence.Next(logits, model.Position); token.Finish is null; token = sequence.Next(logits, model.Position))
            logits = model.Decode(token.Id).ToArray();
        return sequence.Result();
    }

    static GenerateOptions Greedy(int maxTokens) => new() { MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy, IgnoreEos = true };

    [Fact]
    public void Greedy_gives_the_authors_tokens_and_pieces_that_concatenate_to_the_decoded_text()
    {
        var result = Run(Greedy(40));
        var prompt = Tokenizer.EncodePrompt(Prompt);
        Assert.Equal(StopReason.Length, result.StopReason);
        Assert.Equal(40, result.Tokens.Count);
        string all = Tokenizer.Decode([.. prompt, .. result.TokenIds]);
        Assert.StartsWith("The import statement is used to the same as the \"None\" statement.", all);
        Assert.Equal(all, Tokenizer.Decode(prompt) + result.Text);
        Assert.Equal(result.Text, string.Concat(result.Tokens.Select(t => t.Text)));
    }

    [Fact]
    public void A_stop_string_ends_the_text_before_it()
    {
        var full = Run(Greedy(40));
        var stopped = Run(Greedy(40) with { Stop = ["\"None\" st", "never appears"] });
        Assert.Equal(StopReason.StopString, stopped.StopReason);
        Assert.Equal(" is used to the same as the ", stopped.Text);
        Assert.Equal(full.TokenIds[..stopped.Tokens.Count], stopped.TokenIds);
        Assert.Equal(stopped.Text, string.Concat(stopped.Tokens.Select(t => t.Text)));
    }

    [Fact]
    public void The_context_limit_stops_a_sequence_where_the_generation_loop_does()
    {
        var prompt = Enumerable.Repeat(5, 250).ToArray();
        var result = Run(Greedy(40), prompt);
        Assert.Equal(StopReason.ContextFull, result.StopReason);
        Assert.Equal(7, result.Tokens.Count);
    }

    [Fact]
    public void The_end_token_stops_a_sequence_unless_ignored()
    {
        var options = new GenerateOptions { MaxTokens = 5, Sampling = SamplingOptions.Greedy };
        var sequence = new GenerationSequence([5, 6], options, Tokenizer, 4096, 256, PldrTokenizer.EndId);
        var endLikeliest = new float[4096];
        endLikeliest[PldrTokenizer.EndId] = 1;
        var token = sequence.Next(endLikeliest, 2);
        Assert.Equal(StopReason.EndToken, token.Finish?.Reason);
        var ignoring = new GenerationSequence([5, 6], options with { IgnoreEos = true }, Tokenizer, 4096, 256, PldrTokenizer.EndId);
        Assert.Null(ignoring.Next(endLikeliest, 2).Finish);
    }

    [Fact]
    public void Logprobs_are_the_models_log_softmax_and_the_top_n_its_likeliest()
    {
        var result = Run(new GenerateOptions { MaxTokens = 6, Sampling = new SamplingOptions(TopP: 0.9f, Seed: 3), LogProbs = true, TopLogProbs = 5 });
        var model = CompiledModels.Load("pldr-tiny-pydoc");
        var logits = model.Prefill(Tokenizer.EncodePrompt(Prompt)).ToArray();
        foreach (var token in result.Tokens)
        {
            double max = logits.Max(), logSum = max + Math.Log(logits.Sum(x => Math.Exp(x - max)));
            Assert.Equal(logits[token.Id] - logSum, token.LogProb!.Value, 1e-4);
            var expected = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(5).ToArray();
            Assert.Equal(expected, token.TopLogProbs!.Select(t => t.Id));
            foreach (var top in token.TopLogProbs!) Assert.Equal(logits[top.Id] - logSum, top.LogProb, 1e-4);
            logits = model.Decode(token.Id).ToArray();
        }
    }

    [Fact]
    public void A_run_without_a_seed_reports_the_one_that_repeats_it()
    {
        var options = new GenerateOptions { MaxTokens = 20, IgnoreEos = true };
        var first = Run(options);
        var again = Run(options with { Sampling = options.Sampling with { Seed = first.Seed } });
        Assert.Equal(first.TokenIds, again.TokenIds);
        Assert.Equal(first.Text, again.Text);
        Assert.Equal(first.Tokens.Count, first.Timings.GeneratedTokens);
        Assert.Equal(3, first.Timings.PromptTokens);
    }

    [Theory]
    [InlineData(0, 0, false, "max tokens must be ≥ 1, got 0")]
    [InlineData(5, 21, true, "top logprobs must be in 0..20, got 21")]
    [InlineData(5, 2, false, "top logprobs needs logprobs on")]
    public void Bad_requests_are_refused_by_name(int maxTokens, int top, bool logProbs, string message)
    {
        var options = new GenerateOptions { MaxTokens = maxTokens, TopLogProbs = top, LogProbs = logProbs };
        Assert.Equal(message, Assert.Throws<PldrException>(() => new GenerationSequence([5], options, null, 16, 16, 3)).Message);
    }
}
