using Microsoft.Extensions.AI;
using PldrGen.Runtime.Chat;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Tests.Models;
using Xunit;

namespace PldrGen.Tests.Engine;

/// <summary>
/// The engine through Microsoft.Extensions.AI's <see cref="IChatClient"/> on the demo model: the reply is exactly
/// what the engine generates for the conversation in the base-model format, streamed or not; every ChatOptions field
/// and PLDR option reaches the engine; cancellation throws and frees the slot; what a text model cannot take is refused.
/// </summary>
public sealed class ChatClientTests : IDisposable
{
    const string Model = "pldr-tiny-pydoc";
    static readonly ChatMessage[] Conversation = [new(ChatRole.System, "Answer from the reference."), new(ChatRole.User, "What does the import statement do?")];
    const string ConversationPrompt = "System: Answer from the reference.\n\nUser: What does the import statement do?\n\nAssistant:";
    static readonly GenerateOptions Greedy = new() { MaxTokens = 40, Sampling = SamplingOptions.Greedy, Stop = BaseModelChat.Stops };

    readonly PldrEngine _engine = PldrEngine.Load(CompiledModels.Info(Model), Fixtures.ModelDir(Model), new EngineOptions { Slots = 2 });
    readonly IChatClient _chat;

    public ChatClientTests() => _chat = _engine.AsIChatClient();

    public void Dispose() => _engine.Dispose();

    static GenerateResult Raw(ChatResponse response) => Assert.IsType<GenerateResult>(response.RawRepresentation);

    [Fact]
    public void The_base_model_format_writes_role_paragraphs_ending_in_assistant()
    {
        var turns = new[] { new ChatTurn(ChatSpeaker.System, "Answer from the reference."), new ChatTurn(ChatSpeaker.User, "What does the import statement do?") };
        Assert.Equal(ConversationPrompt, BaseModelChat.Prompt(turns));
        Assert.Equal(ChatSpeaker.System, BaseModelChat.Speaker("developer"));
        Assert.Null(BaseModelChat.Speaker("tool"));
    }

    [Fact]
    public async Task A_greedy_reply_is_exactly_the_engines_tokens_for_the_formatted_conversation()
    {
        var response = await _chat.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0, MaxOutputTokens = 40 });
        var expected = await _engine.CompleteAsync(ConversationPrompt, Greedy);
        Assert.Equal(expected.TokenIds, Raw(response).TokenIds);
        Assert.Equal(BaseModelChat.TrimReplyStart(expected.Text), response.Text);
        Assert.NotEmpty(response.Text);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
        Assert.Equal(expected.StopReason == StopReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(expected.Timings.PromptTokens, response.Usage!.InputTokenCount);
        Assert.Equal(expected.TokenIds.Length, response.Usage.OutputTokenCount);
        Assert.Equal(_engine.Info.Name, response.ModelId);
    }

    [Fact]
    public async Task The_stream_gives_the_same_tokens_and_text_and_ends_with_the_finish_and_usage()
    {
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 40 };
        var response = await _chat.GetResponseAsync(Conversation, options);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in _chat.GetStreamingResponseAsync(Conversation, options)) updates.Add(update);
        Assert.Equal(Raw(response).TokenIds, updates.Select(u => Assert.IsType<GeneratedToken>(u.RawRepresentation).Id));
        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(response.Text, updates.ToChatResponse().Text);
        Assert.All(updates[..^1], u => Assert.Null(u.FinishReason));
        Assert.Equal(response.FinishReason, updates[^1].FinishReason);
        var usage = Assert.Single(updates[^1].Contents.OfType<UsageContent>()).Details;
        Assert.Equal(response.Usage!.OutputTokenCount, usage.OutputTokenCount);
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
    }

    [Fact]
    public void Every_chat_option_maps_to_the_engines_option()
    {
        var mapped = PldrChatOptions.ToGenerateOptions(new ChatOptions
        {
            Temperature = 0.7f, TopP = 0.8f, TopK = 40, MaxOutputTokens = 17, Seed = 5,
            StopSequences = ["\n\n"], FrequencyPenalty = 0.25f, PresencePenalty = -0.5f,
        });
        Assert.Equal(new SamplingOptions(0.7f, 40, 0.8f, 5) { FrequencyPenalty = 0.25f, PresencePenalty = -0.5f }, mapped.Sampling);
        Assert.Equal(17, mapped.MaxTokens);
        Assert.Equal(["\n\n", .. BaseModelChat.Stops], mapped.Stop);
        Assert.Equal(GPolicy.OwnPrefill, mapped.G);

        var defaults = PldrChatOptions.ToGenerateOptions(new ChatOptions());
        Assert.Equal(new GenerateOptions().Sampling, defaults.Sampling);
        Assert.Equal(new GenerateOptions().MaxTokens, defaults.MaxTokens);
        Assert.Equal(BaseModelChat.Stops, defaults.Stop);
        Assert.Equal(defaults, PldrChatOptions.ToGenerateOptions(null) with { Stop = defaults.Stop });
    }

    [Fact]
    public async Task Seeded_sampling_options_give_the_engines_tokens_and_report_the_seed()
    {
        var options = new ChatOptions { Temperature = 0.7f, TopP = 0.8f, TopK = 40, MaxOutputTokens = 30, Seed = 5, FrequencyPenalty = 0.25f, PresencePenalty = 0.5f, StopSequences = ["\n\n"] };
        var response = await _chat.GetResponseAsync(Conversation, options);
        var expected = await _engine.CompleteAsync(ConversationPrompt, new GenerateOptions
        {
            MaxTokens = 30, Stop = ["\n\n", .. BaseModelChat.Stops],
            Sampling = new SamplingOptions(0.7f, 40, 0.8f, 5) { FrequencyPenalty = 0.25f, PresencePenalty = 0.5f },
        });
        Assert.Equal(expected.TokenIds, Raw(response).TokenIds);
        Assert.Equal(5, response.AdditionalProperties![PldrChatOptions.Seed]);
    }

    [Fact]
    public async Task The_g_policy_travels_in_additional_properties()
    {
        using var directory = new TempDirectory();
        var model = CompiledModels.Load(Model);
        model.Prefill(_engine.Tokenizer!.EncodePrompt("The for statement is used to iterate"));
        var donor = model.CaptureGCache();
        string file = directory.File("donor.safetensors");
        donor.Save(file);
        var fromFile = await _chat.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0, MaxOutputTokens = 40, AdditionalProperties = new() { [PldrChatOptions.GCacheFile] = file } });
        var policy = await _chat.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0, MaxOutputTokens = 40, AdditionalProperties = new() { [PldrChatOptions.G] = GPolicy.FromCache(donor) } });
        var expected = await _engine.CompleteAsync(ConversationPrompt, Greedy with { G = GPolicy.FromCache(donor) });
        Assert.Equal(expected.TokenIds, Raw(fromFile).TokenIds);
        Assert.Equal(expected.TokenIds, Raw(policy).TokenIds);

        var group = new ChatOptions { Temperature = 0, MaxOutputTokens = 40, AdditionalProperties = new() { [PldrChatOptions.GGroup] = "chat" } };
        await _chat.GetResponseAsync([new ChatMessage(ChatRole.User, "The for statement is used to iterate")], group);
        var grouped = await _chat.GetResponseAsync(Conversation, group);
        var byGroup = await _engine.CompleteAsync(ConversationPrompt, Greedy with { G = GPolicy.FirstOfGroup("chat") });
        Assert.Equal(byGroup.TokenIds, Raw(grouped).TokenIds);
    }

    [Theory]
    [InlineData("pldr.g_grup", "ChatOptions.AdditionalProperties[\"pldr.g_grup\"]: not a PLDR option (known: pldr.g, pldr.g_group, pldr.g_cache_file)")]
    [InlineData("pldr.g", "ChatOptions.AdditionalProperties[\"pldr.g\"]: expected a GPolicy, got String")]
    public void An_unknown_or_mistyped_pldr_option_is_refused(string key, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => PldrChatOptions.ToGenerateOptions(new ChatOptions { AdditionalProperties = new() { [key] = "x" } }));
        Assert.Equal(message, error.Message);
        Assert.Equal(new GenerateOptions().G, PldrChatOptions.ToGenerateOptions(new ChatOptions { AdditionalProperties = new() { ["other.client"] = 1 } }).G);
    }

    [Fact]
    public async Task Bad_options_and_messages_are_refused_in_one_line_naming_them()
    {
        Assert.StartsWith("ChatOptions.Seed: 4294967296 does not fit the engine's 32-bit seed",
            Assert.Throws<ArgumentException>(() => PldrChatOptions.ToGenerateOptions(new ChatOptions { Seed = 1L << 32 })).Message);
        Assert.StartsWith("ChatOptions.AdditionalProperties: give at most one of",
            Assert.Throws<ArgumentException>(() => PldrChatOptions.ToGenerateOptions(new ChatOptions { AdditionalProperties = new() { [PldrChatOptions.G] = GPolicy.OwnPrefill, [PldrChatOptions.GGroup] = "a" } })).Message);
        Assert.Equal("messages[1]: the role 'tool' is not one of system, user, assistant",
            (await Assert.ThrowsAsync<NotSupportedException>(() => _chat.GetResponseAsync([new ChatMessage(ChatRole.User, "hi"), new ChatMessage(ChatRole.Tool, "42")]))).Message);
        Assert.Equal("messages[0]: holds DataContent; a text model takes text only",
            (await Assert.ThrowsAsync<NotSupportedException>(() => _chat.GetResponseAsync([new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1 }, "image/png")])]))).Message);
        Assert.Equal("top-p must be in (0, 1], got 2",
            (await Assert.ThrowsAsync<Runtime.PldrException>(async () => { await foreach (var _ in _chat.GetStreamingResponseAsync(Conversation, new ChatOptions { TopP = 2 })) { } })).Message);
    }

    [Fact]
    public async Task Cancelling_throws_and_frees_the_slot_for_the_next_request()
    {
        using var engine = PldrEngine.Load(CompiledModels.Info(Model), Fixtures.ModelDir(Model), new EngineOptions { Slots = 1 });
        var chat = engine.AsIChatClient();
        var long_ = new ChatOptions { Temperature = 0, MaxOutputTokens = 200, StopSequences = [] };
        using var cancel = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in chat.GetStreamingResponseAsync(Conversation, long_, cancel.Token))
                if (++seen == 3) cancel.Cancel();
        });
        Assert.Equal(3, seen);

        using var later = new CancellationTokenSource();
        var running = chat.GetResponseAsync(Conversation, long_, later.Token);
        // 200 demo tokens take tens of milliseconds: cancel once the request holds its slot, not after a fixed delay.
        SpinWait.SpinUntil(() => engine.SlotsBusy == 1 || running.IsCompleted, TimeSpan.FromSeconds(30));
        later.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(30)));

        var after = await chat.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0, MaxOutputTokens = 5 }).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, after.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task The_client_serves_its_engine_and_metadata_and_leaves_the_engine_running_when_disposed()
    {
        Assert.Same(_engine, _chat.GetService<PldrEngine>());
        Assert.Equal(_engine.Info.Name, _chat.GetService<ChatClientMetadata>()!.DefaultModelId);
        _chat.Dispose();
        Assert.Equal(2, (await _engine.CompleteAsync(new[] { 5, 6 }, Greedy with { MaxTokens = 2 })).TokenIds.Length);
    }
}
