using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PldrGen.Runtime;
using PldrGen.Runtime.Engine;

namespace PldrGen.Server;

/// <summary>A request the server refuses: an HTTP status and one line naming the field, sent as OpenAI's error body.</summary>
sealed class ApiException(int status, string message, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
}

/// <summary>Turns every refusal into a JSON error body, so no client ever sees a stack trace or an empty 500.</summary>
static class ApiErrors
{
    public static async Task Handle(HttpContext http, RequestDelegate next)
    {
        try
        {
            await next(http);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; its sequence has been cancelled and its slot freed.
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            var (status, type, code) = Refusal(e);
            if (e is EngineQueueFullException) http.Response.Headers.RetryAfter = "1";
            string? param = (e as ApiException)?.Param;
            await Write(http, status, new ErrorDetail(Message(e), type, param, (e as ApiException)?.Code ?? code));
        }
    }

    public static Task Write(HttpContext http, int status, ErrorDetail error)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new ErrorBody(error), ServerJson.Default.ErrorBody);
    }

    static (int Status, string Type, string? Code) Refusal(Exception e) => e switch
    {
        ApiException api => (api.Status, api.Status == 401 ? "authentication_error" : api.Status == 404 ? "not_found_error" : "invalid_request_error", null),
        EngineQueueFullException => (StatusCodes.Status503ServiceUnavailable, "server_busy", "queue_full"),
        BadHttpRequestException bad => (bad.StatusCode, "invalid_request_error", bad.StatusCode == 413 ? "body_too_large" : null),
        JsonException or PldrException => (StatusCodes.Status400BadRequest, "invalid_request_error", null),
        _ => (StatusCodes.Status500InternalServerError, "server_error", null),
    };

    static string Message(Exception e) => e switch
    {
        JsonException json => JsonMessage(json),
        BadHttpRequestException { StatusCode: 413 } => "request body is larger than the server's limit",
        ApiException or EngineQueueFullException or BadHttpRequestException or PldrException => FirstLine(e.Message),
        _ => $"internal error ({e.GetType().Name}: {FirstLine(e.Message)}); please report it",
    };

    static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <summary>Where the body went wrong, without System.Text.Json's .NET type names and byte positions.</summary>
    static string JsonMessage(JsonException json)
    {
        string message = FirstLine(json.Message);
        string reason = message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) ? "a value of the wrong type"
            : message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
        return json.Path is { Length: > 1 } path ? $"request body: {reason} at {path}" : $"request body: {reason}";
    }
}
