using PldrGen.Runtime;

namespace PldrGen.Server;

/// <summary>What <see cref="PldrServer"/> serves and how; every limit has a safe default.</summary>
public sealed record PldrServerOptions
{
    /// <summary>The compiled spec of the checkpoint (a generated model's <c>ModelInfo</c>).</summary>
    public required PldrModelInfo Model { get; init; }

    /// <summary>The checkpoint folder: config.json, model.safetensors and tokenizer.model.</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>The id clients send as <c>model</c>; by default the folder's name.</summary>
    public string? ModelName { get; init; }

    /// <summary>Where to listen: 127.0.0.1 unless told otherwise; any other address needs <see cref="ApiKey"/>.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (printed when the server starts).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Sequences generated at once.</summary>
    public int Slots { get; init; } = 1;

    /// <summary>Requests that may wait for a slot; one more is refused with 503 and Retry-After.</summary>
    public int QueueLimit { get; init; } = 256;

    /// <summary>When set, every request except <c>/health</c> and the playground page needs <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>G-cache files requests may name (PLDR extension <c>pldr.g_cache</c>), by name.</summary>
    public IReadOnlyDictionary<string, string> GCacheFiles { get; init; } = new Dictionary<string, string>();

    /// <summary>The largest request body accepted (413 beyond).</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>The most sequences (prompts × n) one request may ask for.</summary>
    public int MaxSequencesPerRequest { get; init; } = 64;

    /// <summary>How long SIGTERM (or cancelling <see cref="PldrServer.RunAsync"/>) waits for in-flight requests.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether the engine warms up every slot before the server listens (<see cref="Runtime.Engine.PldrEngine.WarmUp"/>).</summary>
    public bool WarmUp { get; init; } = true;
}
