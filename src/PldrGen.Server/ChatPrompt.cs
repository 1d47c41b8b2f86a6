using System.Text.Json;
using PldrGen.Runtime.Chat;

namespace PldrGen.Server;

/// <summary>
/// The chat endpoint's messages in the runtime's prompt format for base models (<see cref="BaseModelChat"/>: one
/// place for it, shared with the IChatClient): <c>Role: content</c> paragraphs ending in <c>Assistant:</c>, stopping
/// at <c>\nUser:</c> or <c>\nSystem:</c>.
/// </summary>
static class ChatPrompt
{
    public static IReadOnlyList<string> Stops => BaseModelChat.Stops;

    public static string Format(IReadOnlyList<ChatMessage>? messages)
    {
        if (messages is null || messages.Count == 0) throw new ApiException(400, "messages: required, at least one", "messages");
        return BaseModelChat.Prompt(messages.Select((message, i) => new ChatTurn(
            BaseModelChat.Speaker(message.Role) ?? throw new ApiException(400, $"messages[{i}].role: '{message.Role}' is not one of system, developer, user, assistant", $"messages[{i}].role"),
            Content(message.Content, i))));
    }

    /// <summary>A string, or a list of parts of which only text parts are accepted.</summary>
    static string Content(JsonElement content, int index) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString()!,
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        JsonValueKind.Array => string.Concat(content.EnumerateArray().Select(part =>
            part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var type) && type.ValueEquals("text")
            && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()
            : throw new ApiException(400, $"messages[{index}].content: only text parts are supported by a text model", $"messages[{index}].content"))),
        _ => throw new ApiException(400, $"messages[{index}].content: expected a string or a list of text parts, got {content.ValueKind}", $"messages[{index}].content"),
    };
}
