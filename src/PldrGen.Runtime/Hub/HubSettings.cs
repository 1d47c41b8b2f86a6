namespace PldrGen.Runtime.Hub;

/// <summary>
/// Where the Hub is and where its downloads go, read from the environment as the Hub's own clients read it:
/// <c>HF_HUB_CACHE</c>, else <c>HF_HOME</c>/hub, else ~/.cache/huggingface/hub; <c>HF_ENDPOINT</c> (default
/// https://huggingface.co); <c>HF_TOKEN</c> for gated or private repositories; <c>HF_HUB_OFFLINE=1</c>.
/// </summary>
public sealed record HubSettings(string CacheDirectory, Uri Endpoint, string? Token, bool Offline)
{
    public static HubSettings FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    public static HubSettings FromEnvironment(Func<string, string?> variable)
    {
        string? Value(string name) => variable(name) is { Length: > 0 } value ? value : null;
        string home = Value("HF_HOME") ?? Path.Combine(
            Value("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "huggingface");
        string endpoint = Value("HF_ENDPOINT") ?? "https://huggingface.co";
        if (!Uri.TryCreate(endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new PldrException($"HF_ENDPOINT: '{endpoint}' is not an http or https address");
        bool offline = Value("HF_HUB_OFFLINE") is "1" or "true" or "TRUE" or "yes" or "on";
        return new HubSettings(Value("HF_HUB_CACHE") ?? Path.Combine(home, "hub"), uri, Value("HF_TOKEN"), offline);
    }
}
