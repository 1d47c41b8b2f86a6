using PldrGen.Runtime;
using PldrGen.Runtime.Hub;
using Xunit;

namespace PldrGen.Tests.Hub;

/// <summary>Downloads from a local stand-in of the Hub (<see cref="FakeHub"/>) into a scratch cache.</summary>
public sealed class HubDownloaderTests : IAsyncLifetime
{
    FakeHub hub = null!;
    readonly TempDirectory cache = new();

    public async Task InitializeAsync() => hub = await FakeHub.StartAsync();

    public async Task DisposeAsync()
    {
        await hub.DisposeAsync();
        cache.Dispose();
    }

    HubDownloader Downloader(bool offline = false) => new(new HubSettings(cache.Path, hub.Endpoint, null, offline));

    string Pull(string model = FakeHub.Repo)
    {
        using var downloader = Downloader();
        return downloader.Pull(HubModelId.Parse(model));
    }

    string RepoFolder => Path.Combine(cache.Path, "models--pldr-test--tiny-pydoc");

    [Fact]
    public void Pull_lays_the_files_out_as_the_hubs_own_cache_does()
    {
        string folder = Pull();

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", FakeHub.Commit), folder);
        Assert.Equal(FakeHub.Commit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.model" })
        {
            string link = Path.Combine(folder, file);
            Assert.Equal(hub.Content(file), File.ReadAllBytes(link));
            string target = new FileInfo(link).LinkTarget!;
            Assert.StartsWith(Path.Combine("..", "..", "blobs") + Path.DirectorySeparatorChar, target);
            Assert.True(File.Exists(Path.Combine(RepoFolder, "blobs", Path.GetFileName(target))));
        }
        // LFS blobs are named by their sha256, the small config.json by its git blob id.
        Assert.EndsWith(FakeHub.Sha256(hub.Content("model.safetensors")), new FileInfo(Path.Combine(folder, "model.safetensors")).LinkTarget);
        Assert.Equal(40, Path.GetFileName(new FileInfo(Path.Combine(folder, "config.json")).LinkTarget)!.Length);
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs"), "*.incomplete"));
    }

    [Fact]
    public void A_second_pull_asks_for_metadata_only()
    {
        Pull();
        hub.Requests.Clear();
        Pull();
        Assert.Equal(3, hub.Requests.Count);
        Assert.All(hub.Requests, r => Assert.StartsWith("HEAD ", r));
    }

    [Fact]
    public void A_broken_download_resumes_where_it_stopped()
    {
        hub.BreakAfter["model.safetensors"] = 3_000_000;
        var broken = Assert.Throws<PldrException>(() => Pull());
        Assert.Contains("run the same command again to resume", broken.Message);
        string partial = Directory.GetFiles(Path.Combine(RepoFolder, "blobs"), "*.incomplete").Single();
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1, 3_000_000);

        hub.Requests.Clear();
        string folder = Pull();
        Assert.Contains($"GET /cdn/{FakeHub.Sha256(hub.Content("model.safetensors"))} bytes={kept}-", hub.Requests);
        Assert.Equal(hub.Content("model.safetensors"), File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
    }

    [Theory]
    [InlineData("model.safetensors", "sha256")]
    [InlineData("config.json", "git blob sha1")]
    public void Bytes_that_do_not_match_the_etag_are_refused_and_deleted(string file, string algorithm)
    {
        hub.Corrupt.Add(file);
        var e = Assert.Throws<PldrException>(() => Pull());
        Assert.Contains($"{file}: the downloaded bytes do not match the Hub's {algorithm}", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs"), "*.incomplete"));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "snapshots", FakeHub.Commit, file)));
        Assert.False(Directory.Exists(Path.Combine(RepoFolder, "refs")));
    }

    [Fact]
    public void Offline_resolves_from_the_cache_only()
    {
        using (var offline = Downloader(offline: true))
        {
            var missing = Assert.Throws<PldrException>(() => offline.Pull(HubModelId.Parse(FakeHub.Repo)));
            Assert.Contains("is not in the Hugging Face cache", missing.Message);
            Assert.Contains($"run 'pldr pull {FakeHub.Repo}' first", missing.Message);
        }
        string folder = Pull();
        hub.Requests.Clear();
        using (var offline = Downloader(offline: true))
            Assert.Equal(folder, offline.Pull(HubModelId.Parse(FakeHub.Repo)));
        Assert.Equal(folder, new HubCache(cache.Path).Resolve(HubModelId.Parse(FakeHub.Repo)));
        Assert.Equal(folder, new HubCache(cache.Path).Resolve(HubModelId.Parse($"{FakeHub.Repo}@{FakeHub.Commit}")));
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void A_commit_revision_is_pulled_without_a_ref()
    {
        string folder = Pull($"{FakeHub.Repo}@{FakeHub.Commit}");
        Assert.Equal(Path.Combine(RepoFolder, "snapshots", FakeHub.Commit), folder);
        Assert.False(Directory.Exists(Path.Combine(RepoFolder, "refs")));
    }

    [Fact]
    public void A_repository_without_a_tokenizer_is_pulled_without_one()
    {
        hub.Missing.Add("tokenizer.model");
        string folder = Pull();
        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(folder, "tokenizer.model")));
    }

    [Theory]
    [InlineData("nobody/nothing", "nobody/nothing: no such model on")]
    [InlineData(FakeHub.Repo + "@v9", FakeHub.Repo + " has no revision 'v9'")]
    public void Unknown_repositories_and_revisions_are_named(string model, string message) =>
        Assert.StartsWith(message, Assert.Throws<PldrException>(() => Pull(model)).Message);

    [Fact]
    public void A_repository_without_weights_is_refused_by_name()
    {
        hub.Missing.Add("model.safetensors");
        Assert.StartsWith($"{FakeHub.Repo} has no model.safetensors", Assert.Throws<PldrException>(() => Pull()).Message);
    }

    [Fact]
    public void An_unreachable_endpoint_is_one_clear_line()
    {
        var port = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        port.Start();
        int closed = ((System.Net.IPEndPoint)port.LocalEndpoint).Port;
        port.Stop();
        using var downloader = new HubDownloader(new HubSettings(cache.Path, new Uri($"http://127.0.0.1:{closed}/"), null, false));
        var e = Assert.Throws<PldrException>(() => downloader.Pull(HubModelId.Parse(FakeHub.Repo)));
        Assert.StartsWith($"cannot reach http://127.0.0.1:{closed}", e.Message);
    }
}
