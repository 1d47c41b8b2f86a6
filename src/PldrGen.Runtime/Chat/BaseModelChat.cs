using System.Text;

namespace PldrGen.Runtime.Chat;

/// <summary>Who speaks a turn of a conversation.</summary>
public enum ChatSpeaker { System, User, Assistant }

/// <summary>One turn of a conversation: its speaker and its text.</summary>
public readonly record struct ChatTurn(ChatSpeaker Speaker, string Text);

/// <summary>
/// The prompt format for chatting with a base model. PLDR-LLMs are base models and ship no chat template, so a
/// conversation is written as plain text: each turn as <c>Role: text</c> (System, User, Assistant) followed by a blank
/// line, ending with <c>Assistant:</c> for the model to continue. Generation also stops at the next <c>\nUser:</c> or
/// <c>\nSystem:</c>, where a base model would begin writing the other side of the dialogue, and the space the model
/// writes after <c>Assistant:</c> belongs to the format, not to the reply. The one place this format is defined: the
/// IChatClient (<see cref="PldrChatClient"/>) and <c>pldr serve</c>'s chat endpoint both use it.
/// </summary>
public static class BaseModelChat
{
    /// <summary>Where a reply ends: the model starts the next user or system turn.</summary>
    public static IReadOnlyList<string> Stops { get; } = ["\nUser:", "\nSystem:"];

    /// <summary>The speaker of an OpenAI-style role (system, developer, user, assistant); null for any other role.</summary>
    public static ChatSpeaker? Speaker(string? role) => role switch
    {
        "system" or "developer" => ChatSpeaker.System,
        "user" => ChatSpeaker.User,
        "assistant" => ChatSpeaker.Assistant,
        _ => null,
    };

    /// <summary>The conversation as the text the model continues.</summary>
    public static string Prompt(IEnumerable<ChatTurn> turns)
    {
        var prompt = new StringBuilder();
        foreach (var turn in turns) prompt.Append(turn.Speaker).Append(": ").Append(turn.Text).Append("\n\n");
        return prompt.Append(nameof(ChatSpeaker.Assistant)).Append(':').ToString();
    }

    /// <summary>The start of a reply without the space the format puts after <c>Assistant:</c>.</summary>
    public static string TrimReplyStart(string text) => text.TrimStart(' ');
}
