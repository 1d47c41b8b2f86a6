using PldrGen.Runtime;
using PldrGen.Runtime.Hub;
using Xunit;

namespace PldrGen.Tests.Hub;

/// <summary>Model names and the environment variables the Hub's own clients read.</summary>
public sealed class HubNamesTests
{
    [Theory]
    [InlineData("fromthesky/PLDR-LLM-v51-110M-1", "fromthesky", "PLDR-LLM-v51-110M-1", "main")]
    [InlineData("a/b@v1.0", "a", "b", "v1.0")]
    [InlineData("a/b@refs/pr/1", "a", "b", "refs/pr/1")]
    public void Names_parse(string text, string owner, string name, string revision) =>
        Assert.Equal(new HubModelId(owner, name, revision), HubModelId.Parse(text));

    [Theory]
    [InlineData("justaname")]
    [InlineData("./models/x")]
    [InlineData("/abs/path")]
    [InlineData("a/b/c")]
    [InlineData("a/../b")]
    [InlineData("a/b@../../etc")]
    [InlineData("a--b/c")]
    [InlineData("a/b@")]
    public void Paths_and_odd_names_are_not_hub_names(string text) => Assert.Null(HubModelId.TryParse(text));

    static HubSettings From(params (string Name, string Value)[] variables) =>
        HubSettings.FromEnvironment(name => variables.FirstOrDefault(v => v.Name == name).Value);

    [Fact]
    public void The_cache_follows_HF_HUB_CACHE_then_HF_HOME_then_the_home_folder()
    {
        Assert.Equal(Path.Combine("/h", "hub"), From(("HF_HOME", "/h")).CacheDirectory);
        Assert.Equal("/c", From(("HF_HOME", "/h"), ("HF_HUB_CACHE", "/c")).CacheDirectory);
        Assert.Equal(Path.Combine("/x", "huggingface", "hub"), From(("XDG_CACHE_HOME", "/x")).CacheDirectory);
        Assert.EndsWith(Path.Combine(".cache", "huggingface", "hub"), From().CacheDirectory);
    }

    [Fact]
    public void Endpoint_token_and_offline_come_from_the_environment()
    {
        Assert.Equal(new Uri("https://huggingface.co/"), From().Endpoint);
        var mirror = From(("HF_ENDPOINT", "http://127.0.0.1:8080/mirror"), ("HF_TOKEN", "hf_x"), ("HF_HUB_OFFLINE", "1"));
        Assert.Equal(new Uri("http://127.0.0.1:8080/mirror/"), mirror.Endpoint);
        Assert.Equal("hf_x", mirror.Token);
        Assert.True(mirror.Offline);
        Assert.False(From().Offline);
        Assert.StartsWith("HF_ENDPOINT: 'ftp://x' is not", Assert.Throws<PldrException>(() => From(("HF_ENDPOINT", "ftp://x"))).Message);
    }
}
