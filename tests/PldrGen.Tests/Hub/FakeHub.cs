using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PldrGen.Tests.Hub;

/// <summary>
/// A local stand-in for the Hugging Face Hub (Kestrel on 127.0.0.1, a free port) serving one repository, the demo
/// model, at the Hub's resolve addresses with the Hub's headers: small files answered directly with git's blob id as
/// ETag, LFS files redirected to a CDN path with X-Linked-Etag (sha256) and X-Linked-Size, Range requests answered
/// with 206, errors with X-Error-Code. Knobs let a test corrupt a file, break a connection, and read the requests.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    public const string Repo = "pldr-test/tiny-pydoc";
    public static readonly string Commit = Convert.ToHexStringLower(SHA1.HashData("fake commit"u8));
    static readonly string[] LfsFiles = ["model.safetensors", "tokenizer.model"];

    readonly WebApplication app;
    readonly Dictionary<string, byte[]> files;

    public Uri Endpoint { get; }

    /// <summary>Every request as "METHOD path [range]", in arrival order.</summary>
    public List<string> Requests { get; } = [];

    /// <summary>Files served with one byte changed (a download the checksum must catch).</summary>
    public HashSet<string> Corrupt { get; } = [];

    /// <summary>Files whose next download breaks the connection after this many bytes.</summary>
    public Dictionary<string, int> BreakAfter { get; } = [];

    public HashSet<string> Missing { get; } = [];

    FakeHub(WebApplication app, Dictionary<string, byte[]> files)
    {
        this.app = app;
        this.files = files;
        Endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
    }

    public static async Task<FakeHub> StartAsync()
    {
        var files = new[] { "config.json", "model.safetensors", "tokenizer.model" }
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(Fixtures.ModelDir("pldr-tiny-pydoc"), f)));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeHub? hub = null;
        app.Run(context => hub!.Serve(context));
        await app.StartAsync();
        hub = new FakeHub(app, files);
        return hub;
    }

    public byte[] Content(string file) => files[file];

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    static string GitBlobId(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));

    async Task Serve(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        lock (Requests) Requests.Add($"{request.Method} {request.Path}{(request.Headers.Range.Count > 0 ? " " + request.Headers.Range : "")}");
        string[] parts = request.Path.Value!.TrimStart('/').Split('/');

        if (parts is ["cdn", var sha])
        {
            var (file, bytes) = files.First(f => Sha256(f.Value) == sha);
            await SendBody(context, file, bytes);
            return;
        }
        if (parts is not [var owner, var name, "resolve", var revision, var fileName])
        {
            response.StatusCode = 404;
            return;
        }
        if ($"{owner}/{name}" != Repo) { Refuse(response, "RepoNotFound"); return; }
        if (revision != "main" && revision != Commit) { Refuse(response, "RevisionNotFound"); return; }
        if (!files.TryGetValue(fileName, out var content) || Missing.Contains(fileName)) { Refuse(response, "EntryNotFound"); return; }

        response.Headers["X-Repo-Commit"] = Commit;
        if (LfsFiles.Contains(fileName))
        {
            response.StatusCode = 302;
            response.Headers.Location = new Uri(Endpoint, "cdn/" + Sha256(content)).ToString();
            response.Headers["X-Linked-Etag"] = $"\"{Sha256(content)}\"";
            response.Headers["X-Linked-Size"] = content.Length.ToString();
            return;
        }
        response.Headers.ETag = $"\"{GitBlobId(content)}\"";
        if (request.Method == "HEAD") response.ContentLength = content.Length;
        else await SendBody(context, fileName, content);
    }

    static void Refuse(HttpResponse response, string code)
    {
        response.StatusCode = 404;
        response.Headers["X-Error-Code"] = code;
    }

    async Task SendBody(HttpContext context, string file, byte[] content)
    {
        var response = context.Response;
        if (Corrupt.Contains(file)) content = [.. content[..^1], (byte)(content[^1] ^ 1)];
        int from = 0;
        if (context.Request.Headers.Range.ToString() is { Length: > 0 } range && range.StartsWith("bytes=") && range.EndsWith('-'))
        {
            from = int.Parse(range["bytes=".Length..^1]);
            response.StatusCode = 206;
            response.Headers.ContentRange = $"bytes {from}-{content.Length - 1}/{content.Length}";
        }
        response.ContentLength = content.Length - from;
        if (context.Request.Method == "HEAD") return;
        if (BreakAfter.Remove(file, out int cut))
        {
            await response.Body.WriteAsync(content.AsMemory(from, cut));
            await response.Body.FlushAsync();
            context.Abort();
            return;
        }
        await response.Body.WriteAsync(content.AsMemory(from));
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
