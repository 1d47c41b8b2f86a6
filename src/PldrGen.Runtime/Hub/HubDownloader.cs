using System.Net;
using System.Net.Http.Headers;

namespace PldrGen.Runtime.Hub;

/// <summary>
/// Downloads a model folder from the Hugging Face Hub into the <see cref="HubCache"/>, as the Hub's own clients do:
/// one metadata request per file at <c>/OWNER/NAME/resolve/REVISION/FILE</c> names the commit, the ETag and the size;
/// the content then comes from the same address (the Hub redirects LFS files to its CDN), resumed with a Range
/// request from a <c>.incomplete</c> file, and is checked against the ETag before it becomes a blob.
/// </summary>
public sealed class HubDownloader : IDisposable
{
    /// <summary>A model folder: the two files a model needs, and its tokenizer when the repository has one.</summary>
    static readonly (string File, bool Required)[] ModelFiles = [("config.json", true), ("model.safetensors", true), ("tokenizer.model", false)];

    /// <summary>Called as bytes arrive: the file, the bytes it has, its size.</summary>
    public delegate void ProgressHandler(string file, long received, long size);

    readonly HubSettings settings;
    readonly HttpClient metadata = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };
    readonly HttpClient content = new(new SocketsHttpHandler { AllowAutoRedirect = true, MaxAutomaticRedirections = 5 }) { Timeout = Timeout.InfiniteTimeSpan };

    public HubDownloader(HubSettings settings)
    {
        this.settings = settings;
        Cache = new HubCache(settings.CacheDirectory);
    }

    public HubCache Cache { get; }

    sealed record FileMetadata(string Commit, string Etag, long Size);

    /// <summary>Brings the revision's model files into the cache and returns its snapshot folder.</summary>
    public string Pull(HubModelId id, ProgressHandler? progress = null, CancellationToken cancel = default)
    {
        if (settings.Offline) return Cache.Resolve(id);
        string? commit = null;
        foreach (var (file, required) in ModelFiles)
        {
            // After the first file, ask for the commit it named, so that every file comes from one commit.
            var meta = Metadata(id, commit ?? id.Revision, file, required, cancel);
            if (meta is null) continue;
            commit ??= meta.Commit;
            string blob = Cache.BlobPath(id, meta.Etag);
            if (File.Exists(blob) && new FileInfo(blob).Length == meta.Size) progress?.Invoke(file, meta.Size, meta.Size);
            else Download(ResolveUrl(id, commit, file), blob, file, meta, progress, cancel);
            Cache.Link(id, commit, file, meta.Etag);
        }
        if (!id.RevisionIsCommit) Cache.WriteRef(id, commit!);
        return Cache.SnapshotFolder(id, commit!);
    }

    Uri ResolveUrl(HubModelId id, string revision, string file) =>
        new(settings.Endpoint, $"{id.Owner}/{id.Name}/resolve/{Uri.EscapeDataString(revision)}/{file}");

    /// <summary>The file's commit, ETag and size; null for an optional file the repository does not have.</summary>
    FileMetadata? Metadata(HubModelId id, string revision, string file, bool required, CancellationToken cancel)
    {
        var url = ResolveUrl(id, revision, file);
        for (int hop = 0; hop < 5; hop++)
        {
            using var response = Send(metadata, Request(HttpMethod.Head, url), url, cancel);
            // A renamed repository answers with a relative redirect to its new name; LFS files with an absolute
            // one to the CDN, whose response would no longer carry the Hub's headers.
            if (response.StatusCode is >= HttpStatusCode.Ambiguous and < HttpStatusCode.BadRequest
                && response.Headers.Location is { IsAbsoluteUri: false } relative)
            {
                url = new Uri(url, relative);
                continue;
            }
            if (!required && response.StatusCode == HttpStatusCode.NotFound && Header(response, "X-Error-Code") == "EntryNotFound") return null;
            if ((int)response.StatusCode >= 400) throw Refusal(response, id, file);

            string commit = Header(response, "X-Repo-Commit") ?? (id.RevisionIsCommit ? id.Revision
                : throw new PldrException($"{url}: the server did not say which commit {id} is at (no X-Repo-Commit header); is HF_ENDPOINT a Hugging Face Hub?"));
            string etag = Unquote(Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag
                ?? throw new PldrException($"{url}: the server sent no ETag, so the download could not be checked"));
            long size = long.TryParse(Header(response, "X-Linked-Size"), out long linked) ? linked
                : response.Content.Headers.ContentLength ?? throw new PldrException($"{url}: the server did not say how large {file} is");
            if (BlobChecksum.For(etag, size) is null)
                throw new PldrException($"{url}: the ETag '{etag}' is neither a sha256 nor a git blob id, so {file} could not be checked");
            if (!HubModelId.IsCommitHash(commit))
                throw new PldrException($"{url}: '{commit}' is not a commit hash (X-Repo-Commit)");
            return new FileMetadata(commit, etag, size);
        }
        throw new PldrException($"{ResolveUrl(id, revision, file)}: too many redirects");
    }

    void Download(Uri url, string blob, string file, FileMetadata meta, ProgressHandler? progress, CancellationToken cancel)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        string partial = blob + ".incomplete";
        using var check = BlobChecksum.For(meta.Etag, meta.Size)!;
        using (var output = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        {
            long have = output.Length <= meta.Size ? HashExisting(output, check) : Truncate(output, check);
            if (have < meta.Size)
            {
                var request = Request(HttpMethod.Get, url);
                if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
                using var response = Send(content, request, url, cancel);
                if (response.StatusCode == HttpStatusCode.OK && have > 0) have = Truncate(output, check); // the server ignored the range
                else if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From != have)
                    throw new PldrException($"{url}: the server resumed {file} at another byte than {have}");
                else if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.PartialContent))
                    throw new PldrException($"{url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase} while downloading {file}");
                have = Copy(response, output, check, file, have, meta.Size, progress, cancel);
            }
            if (have != meta.Size)
                throw new PldrException($"{file}: the download stopped at {have} of {meta.Size} bytes; run the same command again to resume");
        }
        if (!check.Matches())
        {
            File.Delete(partial);
            throw new PldrException($"{file}: the downloaded bytes do not match the Hub's {check.Algorithm} {meta.Etag}; the file was deleted, run the command again");
        }
        File.Move(partial, blob, overwrite: true);
    }

    static long HashExisting(FileStream output, BlobChecksum check)
    {
        var buffer = new byte[1 << 20];
        output.Position = 0;
        for (int n; (n = output.Read(buffer)) > 0;) check.Append(buffer.AsSpan(0, n));
        return output.Length;
    }

    static long Truncate(FileStream output, BlobChecksum check)
    {
        output.SetLength(0);
        check.Reset();
        return 0;
    }

    static long Copy(HttpResponseMessage response, FileStream output, BlobChecksum check, string file, long have, long size,
        ProgressHandler? progress, CancellationToken cancel)
    {
        var buffer = new byte[1 << 20];
        try
        {
            using var body = response.Content.ReadAsStream(cancel);
            for (int n; (n = body.Read(buffer)) > 0;)
            {
                if (have + n > size) throw new PldrException($"{file}: the server sent more than the {size} bytes it announced");
                output.Write(buffer, 0, n);
                check.Append(buffer.AsSpan(0, n));
                have += n;
                progress?.Invoke(file, have, size);
                cancel.ThrowIfCancellationRequested();
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new PldrException($"{file}: the connection broke at {have} of {size} bytes ({e.Message}); run the same command again to resume", e);
        }
        return have;
    }

    HttpRequestMessage Request(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.UserAgent.ParseAdd("pldr/" + typeof(HubDownloader).Assembly.GetName().Version?.ToString(3));
        // The Hub must not compress: the ETag and the size are those of the stored bytes.
        request.Headers.AcceptEncoding.ParseAdd("identity");
        // Sent to the Hub only; HttpClient drops it when a redirect leads to another host.
        if (settings.Token is { } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    HttpResponseMessage Send(HttpClient client, HttpRequestMessage request, Uri url, CancellationToken cancel)
    {
        try
        {
            using (request) return client.Send(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        }
        catch (HttpRequestException e)
        {
            throw new PldrException($"cannot reach {url.GetLeftPart(UriPartial.Authority)} ({e.Message}); check the network or HF_ENDPOINT, or use --offline for what is cached", e);
        }
        catch (TaskCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw new PldrException($"{url}: no answer in {client.Timeout.TotalSeconds:0} s", e);
        }
    }

    PldrException Refusal(HttpResponseMessage response, HubModelId id, string file) =>
        new((Header(response, "X-Error-Code"), (int)response.StatusCode) switch
        {
            ("RepoNotFound", _) or (_, 401) => $"{id.Repo}: no such model on {settings.Endpoint} (or it is private or gated: set HF_TOKEN to a token that may read it)",
            ("RevisionNotFound", _) => $"{id.Repo} has no revision '{id.Revision}'",
            ("EntryNotFound", _) => $"{id} has no {file}; pldr needs config.json and model.safetensors (a PLDR-LLM saved with save_pretrained)",
            ("GatedRepo", _) or (_, 403) => $"{id.Repo} is gated: accept its terms on the Hub and set HF_TOKEN to a token of that account",
            _ => $"{id}: HTTP {(int)response.StatusCode} {response.ReasonPhrase} for {file}",
        });

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    static string Unquote(string etag) => etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..].Trim('"') : etag.Trim('"');

    public void Dispose()
    {
        metadata.Dispose();
        content.Dispose();
    }
}
