using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Tests.Models;
using Xunit;

namespace PldrGen.Tests.Engine;

/// <summary>
/// The engine on every fixture model: many sequences at once give exactly what each gives alone, the G policies
/// give the fixtures' tokens, and queueing, cancellation and streaming behave.
/// </summary>
public sealed class EngineTests
{
    const int NewTokens = 12;

    static PldrEngine Engine(string fixture, int slots, int queue = 256) =>
        PldrEngine.Load(CompiledModels.Info(fixture), Fixtures.ModelDir(fixture), new EngineOptions { Slots = slots, QueueCapacity = queue });

    /// <summary>The fixture's prompt and 15 others of different lengths; even ones greedy, odd ones seeded top-p.</summary>
    static (int[] Prompt, GenerateOptions Options)[] Requests(string fixture)
    {
        using var reference = Fixtures.Reference(fixture);
        var config = Fixtures.Config(fixture);
        var random = new Random(7);
        return [.. Enumerable.Range(0, 16).Select(i => (
            i == 0 ? reference.ReadInt32("prompt") : Enumerable.Range(0, random.Next(1, Math.Min(40, config.MaxPositionEmbeddings - NewTokens))).Select(_ => random.Next(4, config.VocabSize)).ToArray(),
            new GenerateOptions
            {
                MaxTokens = NewTokens, IgnoreEos = true, ReturnLogits = true,
                Sampling = i % 2 == 0 ? SamplingOptions.Greedy : new SamplingOptions(TopP: 0.9f, Seed: i),
            }))];
    }

    /// <summary>A sequence alone: a fresh model and the plain generation loop, no engine.</summary>
    static GenerationResult Alone(string fixture, int[] prompt, GenerateOptions options) =>
        TextGeneration.Run(CompiledModels.Load(fixture), prompt,
            new GenerationOptions(options.MaxTokens, options.Sampling, IgnoreEos: true, KeepLogits: true));

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public async Task Sixteen_prompts_together_give_exactly_the_tokens_and_logits_each_gives_alone(string fixture)
    {
        var requests = Requests(fixture);
        foreach (int slots in new[] { 16, 5 })
        {
            using var engine = Engine(fixture, slots);
            Assert.True(engine.BatchedDecode);
            if (slots == 5) engine.WarmUp(); // a warm-up in every slot first leaves nothing behind
            var together = await Task.WhenAll(requests.Select(r => Task.Run(() => engine.CompleteAsync(r.Prompt, r.Options))));
            for (int i = 0; i < requests.Length; i++)
            {
                var alone = Alone(fixture, requests[i].Prompt, requests[i].Options);
                Assert.Equal(alone.Tokens, together[i].TokenIds);
                for (int t = 0; t < alone.Logits.Count; t++)
                    Assert.True(alone.Logits[t].AsSpan().SequenceEqual(together[i].Tokens[t].Logits), $"{fixture}, {slots} slots, request {i}, token {t}: logits differ from the sequence alone");
                Assert.Equal(StopReason.Length, together[i].StopReason);
            }
        }
    }

    [Theory, MemberData(nameof(Fixtures.Models), MemberType = typeof(Fixtures))]
    public async Task Greedy_through_the_engine_gives_the_fixture_tokens(string fixture)
    {
        using var reference = Fixtures.Reference(fixture);
        var expected = reference.ReadInt32("greedy.tokens");
        using var engine = Engine(fixture, 2);
        var result = await engine.CompleteAsync(reference.ReadInt32("prompt"), new GenerateOptions { MaxTokens = expected.Length, IgnoreEos = true, Sampling = SamplingOptions.Greedy });
        Assert.Equal(expected, result.TokenIds);
    }

    public static TheoryData<string> ExternalFixtures => Fixtures.ModelsWith("external.tokens");

    [Theory, MemberData(nameof(ExternalFixtures))]
    public async Task A_g_cache_and_the_first_prompt_of_a_group_give_the_fixtures_transferred_g_tokens(string fixture)
    {
        using var reference = Fixtures.Reference(fixture);
        var expected = reference.ReadInt32("external.tokens");
        int[] prompt = reference.ReadInt32("prompt"), donor = reference.ReadInt32("external.prompt");
        var greedy = new GenerateOptions { MaxTokens = expected.Length, IgnoreEos = true, Sampling = SamplingOptions.Greedy };
        var model = CompiledModels.Load(fixture);
        model.Prefill(donor);
        GCache donorG = model.CaptureGCache();

        using var engine = Engine(fixture, 1); // one slot: every request reuses it, so a policy must not leak into the next
        var first = await engine.CompleteAsync(donor, greedy with { G = GPolicy.FirstOfGroup("donor") });
        var grouped = await engine.CompleteAsync(prompt, greedy with { G = GPolicy.FirstOfGroup("donor") });
        var cached = await engine.CompleteAsync(prompt, greedy with { G = GPolicy.FromCache(donorG) });
        var own = await engine.CompleteAsync(prompt, greedy);
        Assert.Equal(expected, grouped.TokenIds);
        Assert.Equal(expected, cached.TokenIds);
        Assert.Equal(reference.ReadInt32("greedy.tokens")[..expected.Length], own.TokenIds);
        Assert.Equal(Alone(fixture, donor, greedy).Tokens, first.TokenIds);
    }

    [Fact]
    public void A_full_queue_refuses_with_a_clear_exception()
    {
        using var engine = Engine("pldr-tiny-pydoc", slots: 1, queue: 1);
        var slow = new GenerateOptions { MaxTokens = 200, IgnoreEos = true };
        using var stop = new CancellationTokenSource();
        _ = engine.CompleteAsync(new[] { 5, 6, 7 }, slow, stop.Token);
        _ = engine.CompleteAsync(new[] { 5, 6, 7 }, slow, stop.Token);
        var refused = Assert.Throws<EngineQueueFullException>(() => { _ = engine.CompleteAsync(new[] { 5, 6, 7 }, slow); }); // refused at the call, not later
        Assert.StartsWith("the engine's queue is full: ", refused.Message);
        stop.Cancel();
    }

    [Fact]
    public async Task Cancelling_a_stream_throws_and_frees_the_slot_and_a_cancelled_completion_keeps_its_text()
    {
        using var engine = Engine("pldr-tiny-pydoc", slots: 1);
        var long_ = new GenerateOptions { MaxTokens = 200, IgnoreEos = true, Sampling = SamplingOptions.Greedy };
        using var cancel = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync("The import statement", long_, cancel.Token))
                if (++seen == 3) cancel.Cancel();
        });
        Assert.Equal(3, seen);

        using var later = new CancellationTokenSource();
        var running = engine.CompleteAsync("The import statement", long_, later.Token);
        // The demo model decodes 200 tokens in tens of milliseconds: cancel as soon as the request holds its slot,
        // not after a fixed delay that a fast machine outruns.
        SpinWait.SpinUntil(() => engine.SlotsBusy == 1 || running.IsCompleted, TimeSpan.FromSeconds(30));
        later.Cancel();
        var partial = await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(StopReason.Cancelled, partial.StopReason);
        Assert.True(partial.Tokens.Count < 200);

        var after = await engine.CompleteAsync("The import statement", long_ with { MaxTokens = 5 }).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(StopReason.Length, after.StopReason);
    }

    [Fact]
    public async Task The_stream_concatenates_to_the_completion_and_ends_with_the_finish()
    {
        using var engine = Engine("pldr-tiny-pydoc", slots: 2);
        var options = new GenerateOptions { MaxTokens = 30, Sampling = new SamplingOptions(TopP: 0.9f, Seed: 5), Stop = ["\n"] };
        var streamed = new List<GeneratedToken>();
        await foreach (var token in engine.GenerateAsync("The import statement", options)) streamed.Add(token);
        var completed = await engine.CompleteAsync("The import statement", options);
        Assert.Equal(completed.Text, string.Concat(streamed.Select(t => t.Text)));
        Assert.Equal(completed.TokenIds, streamed.Select(t => t.Id));
        Assert.All(streamed[..^1], t => Assert.Null(t.Finish));
        Assert.Equal(completed.StopReason, streamed[^1].Finish!.Reason);
        Assert.Equal(5, completed.Seed);
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_refused_before_it_queues()
    {
        using var engine = Engine("pldr-tiny-pydoc", slots: 1);
        var error = Assert.Throws<PldrException>(() => { _ = engine.CompleteAsync(Enumerable.Repeat(5, 300).ToArray()); });
        Assert.Equal("the prompt has 300 tokens, more than the model's context of 256 positions", error.Message);
    }
}
