using System.Text;
using System.Text.Json;

namespace PldrGen.Server;

/// <summary>
/// PLDR-LLMs are base models and ship no chat template, so the chat endpoint writes the conversation as plain text:
/// each message as <c>Role: content</c> (System, User, Assistant) separated by blank lines, ending with
/// <c>Assistant:</c> for the model to continue. Generation also stops at the next <c>\nUser:</c> or <c>\nSystem:</c>,
/// where a base model would begin writing the other side of the dialogue.
/// </summary>
static class ChatPrompt
{
    public static IReadOnlyList<string> Stops { get; } = ["\nUser:", "\nSystem:"];

    public static string Format(IReadOnlyList<ChatMessage>? messages)
    {
        if (messages is null || messages.Count == 0) throw new ApiException(400, "messages: required, at least one", "messages");
        var prompt = new StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            string role = messages[i].Role switch
            {
                "system" or "developer" => "System",
                "user" => "User",
                "assistant" => "Assistant",
                var other => throw new ApiException(400, $"messages[{i}].role: '{other}' is not one of system, developer, user, assistant", $"messages[{i}].role"),
            };
            prompt.Append(role).Append(": ").Append(Content(messages[i].Content, i)).Append("\n\n");
        }
        return prompt.Append("Assistant:").ToString();
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
