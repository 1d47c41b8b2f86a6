using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace PldrGen.Server.Tests;

/// <summary>The official OpenAI .NET SDK and Microsoft.Extensions.AI's IChatClient against a running pldr serve.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class OpenAiClientTests(SharedServer shared)
{
    const string Question = "What does the import statement do?";

    OpenAIClient Client(string key = "unused") =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(shared.Server.Url + "/v1") });

    /// <summary>The greedy reply to one user message under the documented base-model prompt format.</summary>
    static string ChatReference(string question, int maxTokens)
    {
        string text = GreedyReference.Text($"User: {question}\n\nAssistant:", maxTokens);
        foreach (string stop in new[] { "\nUser:", "\nSystem:" })
            if (text.IndexOf(stop, StringComparison.Ordinal) is >= 0 and var at) text = text[..at];
        return text.TrimStart(' ');
    }

    [Fact]
    public async Task Legacy_completion_through_the_sdk_pipeline_is_the_greedy_reference_with_usage_and_logprobs()
    {
        // OpenAI 2.15 keeps its legacy completions client internal; its public pipeline (auth, retries) still sends the request.
        var pipeline = Client().Pipeline;
        string prompt = GreedyReference.Prompts[0];
        using var message = pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(shared.Server.Url + "/v1/completions");
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = BinaryContent.Create(BinaryData.FromObjectAsJson(new { model = SharedServer.Model, prompt, max_tokens = 12, temperature = 0, logprobs = 3 }));
        await pipeline.SendAsync(message);
        Assert.Equal(200, message.Response!.Status);
        using var json = JsonDocument.Parse(message.Response.Content);
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Equal(GreedyReference.Text(prompt, 12), choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        var logprobs = choice.GetProperty("logprobs");
        Assert.Equal(12, logprobs.GetProperty("token_logprobs").GetArrayLength());
        var top = logprobs.GetProperty("top_logprobs")[0];
        Assert.Equal(3, top.EnumerateObject().Count());
        // greedy takes the likeliest token, so its logprob is the largest of the alternatives
        Assert.Equal(top.EnumerateObject().Max(p => p.Value.GetSingle()), logprobs.GetProperty("token_logprobs")[0].GetSingle());
        var usage = json.RootElement.GetProperty("usage");
        Assert.Equal(GreedyReference.Tokenizer.EncodePrompt(prompt).Length, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(12, usage.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_completion_is_the_greedy_reply_of_the_documented_prompt_format()
    {
        var chat = Client().GetChatClient(SharedServer.Model);
        ChatCompletion reply = await chat.CompleteChatAsync([new UserChatMessage(Question)],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 20 });
        Assert.Equal(ChatReference(Question, 20), reply.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, reply.Role);
        Assert.True(reply.Usage.OutputTokenCount is > 0 and <= 20);
    }

    [Fact]
    public async Task Chat_streaming_through_the_sdk_concatenates_to_the_same_reply()
    {
        var chat = Client().GetChatClient(SharedServer.Model);
        var text = new System.Text.StringBuilder();
        OpenAI.Chat.ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(Question)], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 20 }))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            if (update.FinishReason is { } reason) finish = reason;
        }
        Assert.Equal(ChatReference(Question, 20), text.ToString());
        Assert.NotNull(finish);
    }

    [Fact]
    public async Task Chat_logprobs_come_back_through_the_sdk()
    {
        var chat = Client().GetChatClient(SharedServer.Model);
        ChatCompletion reply = await chat.CompleteChatAsync([new UserChatMessage(Question)],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 });
        Assert.NotEmpty(reply.ContentTokenLogProbabilities);
        foreach (var token in reply.ContentTokenLogProbabilities)
        {
            Assert.True(token.LogProbability <= 0);
            Assert.Equal(2, token.TopLogProbabilities.Count);
            Assert.Equal(token.TopLogProbabilities[0].LogProbability, token.LogProbability, 1e-6f); // greedy: the likeliest
        }
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_chat_client_gets_and_streams_the_reply()
    {
        IChatClient client = Client().GetChatClient(SharedServer.Model).AsIChatClient();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 20 };
        var response = await client.GetResponseAsync(Question, options);
        Assert.Equal(ChatReference(Question, 20), response.Text);
        var streamed = new System.Text.StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync(Question, options)) streamed.Append(update.Text);
        Assert.Equal(response.Text, streamed.ToString());
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_the_sdk_reports()
    {
        var chat = Client().GetChatClient("gpt-4o");
        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, e.Status);
        Assert.Contains("is not served here", e.Message);
    }

    [Fact]
    public async Task A_bad_option_is_a_400_the_sdk_reports_with_the_field_name()
    {
        var chat = Client().GetChatClient(SharedServer.Model);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { TopP = 1.5f }));
        Assert.Equal(400, e.Status);
        Assert.Contains("top_p", e.Message);
    }
}
