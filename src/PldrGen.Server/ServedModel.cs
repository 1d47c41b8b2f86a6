using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Server;

/// <summary>The model being served and what every endpoint shares: its generator, name, G-cache files and limits.</summary>
sealed class ServedModel : IDisposable
{
    public ServedModel(PldrServerOptions options, ITextGenerator generator)
    {
        Options = options;
        Generator = generator;
        Metrics = new ServerMetrics(generator);
        Name = options.ModelName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.ModelDirectory)));
        var config = options.Model.Config;
        GCaches = options.GCacheFiles.ToDictionary(f => f.Key, f =>
        {
            var cache = GCache.Load(f.Value);
            cache.EnsureShape(config.NumHiddenLayers, config.NumAttentionHeads, config.HeadDim, $"--g-cache {f.Key}={f.Value}");
            return cache;
        }, StringComparer.Ordinal);
    }

    public PldrServerOptions Options { get; }
    public ITextGenerator Generator { get; }
    public string Name { get; }
    public IReadOnlyDictionary<string, GCache> GCaches { get; }
    public int ContextSize => Options.Model.Config.MaxPositionEmbeddings;
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    public ServerMetrics Metrics { get; }

    /// <summary>Refuses a request for another model (404, as OpenAI answers).</summary>
    public void CheckModel(string? requested)
    {
        if (requested is not null && requested != Name)
            throw new ApiException(404, $"model '{requested}' is not served here; this server serves '{Name}' (see /v1/models)", "model", "model_not_found");
    }

    public void Dispose()
    {
        Metrics.Dispose();
        Generator.Dispose();
    }
}
