using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using PldrGen.Runtime.Engine;

namespace PldrGen.Server;

/// <summary>Server-sent events as OpenAI streams them: <c>data: {json}</c> per chunk, then <c>data: [DONE]</c>.</summary>
static class Sse
{
    static readonly byte[] Prefix = "data: "u8.ToArray(), End = "\n\n"u8.ToArray(), DoneLine = "data: [DONE]\n\n"u8.ToArray();

    public static async Task StartAsync(HttpResponse response)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync();
    }

    public static async Task WriteAsync<T>(HttpResponse response, T value, JsonTypeInfo<T> type, CancellationToken cancel)
    {
        var body = response.BodyWriter;
        body.Write(Prefix);
        body.Write(JsonSerializer.SerializeToUtf8Bytes(value, type));
        body.Write(End);
        await body.FlushAsync(cancel);
    }

    /// <summary>An error after the stream began: OpenAI's error body as one more event.</summary>
    public static Task ErrorAsync(HttpResponse response, Exception e, CancellationToken cancel) =>
        WriteAsync(response, new ErrorBody(new ErrorDetail(e.Message.Split('\n')[0], e is EngineQueueFullException ? "server_busy" : "invalid_request_error", null, null)),
            ServerJson.Default.ErrorBody, cancel);

    public static async Task DoneAsync(HttpResponse response, CancellationToken cancel)
    {
        response.BodyWriter.Write(DoneLine);
        await response.BodyWriter.FlushAsync(cancel);
    }
}
