using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace PldrGen.Server.Tests;

/// <summary>
/// The README's OpenAI SDK block as written, compiled with these tests (tests/PldrGen.Tests/Docs/ReadmeTests.cs checks
/// that its lines appear here in order); not run, as it names the default port. OpenAiClientTests runs the same calls
/// against a live server.
/// </summary>
public static class ReadmeExamples
{
    public static async Task StreamAChatReply()
    {
        var client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri("http://127.0.0.1:8080/v1") });
        var chat = client.GetChatClient("pldr-tiny-pydoc");
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("What does the import statement do?")]))
            foreach (var part in update.ContentUpdate) Console.Write(part.Text);
    }
}
