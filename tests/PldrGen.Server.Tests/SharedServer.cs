namespace PldrGen.Server.Tests;

/// <summary>One <c>pldr serve</c> on the demo model with 4 slots and a named G-cache, shared by the tests that need no server of their own.</summary>
public sealed class SharedServer : IDisposable
{
    public const string Model = "pldr-tiny-pydoc";
    public const string GCachePrompt = "The import statement";
    readonly string _gCache = Path.Combine(Path.GetTempPath(), $"pldr-server-test-{Guid.NewGuid():N}.safetensors");

    public SharedServer()
    {
        var saved = PldrProgram.Shipped.Run("gcache", "--prompt", GCachePrompt, "--out", _gCache);
        if (saved.ExitCode != 0) throw new InvalidOperationException("pldr gcache failed: " + saved.Stderr);
        Server = new ServerProcess("--slots", "4", "--g-cache", "import=" + _gCache);
    }

    public ServerProcess Server { get; }
    public string GCacheFile => _gCache;

    public void Dispose()
    {
        Server.Dispose();
        File.Delete(_gCache);
    }
}

[CollectionDefinition(Name)]
public sealed class SharedServerCollection : ICollectionFixture<SharedServer>
{
    public const string Name = "shared pldr serve";
}
