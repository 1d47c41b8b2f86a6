using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Text;

namespace PldrGen.Server;

/// <summary>The model being served and what every endpoint shares: its engine, tokenizer, name, G-cache files and limits.</summary>
sealed class ServedModel : IDisposable
{
    /// <summary>Group names whose G the engine keeps (pldr.group): each holds a G-cache, so their number is bounded.</summary>
    public const int MaxGroups = 256;
    readonly HashSet<string> _groups = new(StringComparer.Ordinal);

    public ServedModel(PldrServerOptions options, PldrEngine engine)
    {
        Options = options;
        Engine = engine;
        Tokenizer = engine.Tokenizer ?? throw new PldrException($"{options.ModelDirectory}: no tokenizer.model; the server needs the model's tokenizer");
        Metrics = new ServerMetrics(engine);
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
    public PldrEngine Engine { get; }
    public PldrTokenizer Tokenizer { get; }
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

    /// <summary>The policy for <paramref name="group"/>, refused once <see cref="MaxGroups"/> other names are kept.</summary>
    public GPolicy Group(string group)
    {
        lock (_groups)
            if (!_groups.Contains(group) && (_groups.Count >= MaxGroups || !_groups.Add(group)))
                throw new ApiException(400, $"pldr.group: this server keeps the G of at most {MaxGroups} groups; reuse one of them", "pldr.group");
        return GPolicy.FirstOfGroup(group);
    }

    public void Dispose()
    {
        Metrics.Dispose();
        Engine.Dispose();
    }
}
