using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PldrGen.Server.Tests;

/// <summary>Raw HTTP helpers for what no SDK exposes (token ids, PLDR extensions, malformed bodies).</summary>
static class Json
{
    public static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient http, string path, object body, CancellationToken cancel = default) =>
        await SendAsync(http, path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"), cancel);

    public static async Task<(int Status, JsonElement Body)> SendAsync(HttpClient http, string path, HttpContent content, CancellationToken cancel = default)
    {
        using var response = await http.PostAsync(path, content, cancel);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancel);
        return ((int)response.StatusCode, body);
    }

    public static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];

    /// <summary>Reads an SSE stream to its end: every data payload but [DONE], and whether [DONE] came.</summary>
    public static async Task<(List<JsonNode> Chunks, bool Done)> ReadStreamAsync(HttpResponseMessage response, CancellationToken cancel = default, TimeSpan? delayPerEvent = null)
    {
        var chunks = new List<JsonNode>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel));
        bool done = false;
        while (await reader.ReadLineAsync(cancel) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            if (line == "data: [DONE]") { done = true; continue; }
            chunks.Add(JsonNode.Parse(line[6..])!);
            if (delayPerEvent is { } delay) await Task.Delay(delay, cancel);
        }
        return (chunks, done);
    }

    public static HttpRequestMessage Streaming(string path, object body) => new(HttpMethod.Post, path)
    {
        Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
    };
}
