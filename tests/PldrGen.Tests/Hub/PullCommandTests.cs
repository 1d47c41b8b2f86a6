using PldrGen.Tests.Cli;
using Xunit;

namespace PldrGen.Tests.Hub;

/// <summary>From a Hub name to generated text and a spec with the pldr program, against <see cref="FakeHub"/>.</summary>
public sealed class PullCommandTests : IAsyncLifetime
{
    FakeHub hub = null!;
    readonly TempDirectory home = new();

    public async Task InitializeAsync() => hub = await FakeHub.StartAsync();

    public async Task DisposeAsync()
    {
        await hub.DisposeAsync();
        home.Dispose();
    }

    PldrProgram.Result Pldr(params string[] args) =>
        PldrProgram.WithTestSpecs.Run(args, "", new Dictionary<string, string> { ["HF_HOME"] = home.Path, ["HF_ENDPOINT"] = hub.Endpoint.ToString() });

    [Fact]
    public void Pull_then_generate_and_spec_by_the_hub_name()
    {
        var before = Pldr("generate", "--model", FakeHub.Repo, "--prompt", "x");
        Assert.Equal(1, before.ExitCode);
        Assert.Contains($"pldr: {FakeHub.Repo} is not in the Hugging Face cache", before.Stderr);
        Assert.Contains($"run 'pldr pull {FakeHub.Repo}' first", before.Stderr);

        var pull = Pldr("pull", FakeHub.Repo);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        string snapshot = Path.Combine(home.Path, "hub", "models--pldr-test--tiny-pydoc", "snapshots", FakeHub.Commit);
        Assert.Equal(snapshot + "\n", pull.Stdout);
        Assert.Contains("pldr: model.safetensors  8.1 / 8.1 MB  100%", pull.Stderr);

        var generated = Pldr("generate", "-m", FakeHub.Repo, "-p", "The import statement", "--greedy", "-n", "8");
        Assert.True(generated.ExitCode == 0, generated.Stderr);
        Assert.StartsWith("The import statement is used to the same", generated.Stdout);

        var spec = Pldr("spec", "--from-config", FakeHub.Repo);
        Assert.True(spec.ExitCode == 0, spec.Stderr);
        Assert.Contains($"# Written by `pldr spec --from-config {FakeHub.Repo}`", spec.Stdout);
        Assert.Contains("class_name: TinyPydoc\n", spec.Stdout);
        Assert.Equal(spec.Stdout.Replace($"--from-config {FakeHub.Repo}`", "").Split('\n')[1..],
            Pldr("spec", "--from-config", snapshot, "--class-name", "TinyPydoc").Stdout.Replace($"--from-config {snapshot}`", "").Split('\n')[1..]);
    }

    [Fact]
    public void Offline_pull_names_the_cached_folder_or_says_it_is_missing()
    {
        var missing = Pldr("pull", "--offline", FakeHub.Repo);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("is not in the Hugging Face cache", missing.Stderr);
        Assert.Empty(hub.Requests);

        Assert.Equal(0, Pldr("pull", FakeHub.Repo).ExitCode);
        hub.Requests.Clear();
        var cached = Pldr("pull", "--offline", FakeHub.Repo);
        Assert.Equal(0, cached.ExitCode);
        Assert.EndsWith(FakeHub.Commit + "\n", cached.Stdout);
        Assert.Empty(hub.Requests);
    }

    [Theory]
    [InlineData("not-a-name", "pldr: 'not-a-name' is not a Hugging Face model name: write OWNER/NAME or OWNER/NAME@REVISION")]
    [InlineData("nobody/nothing", "pldr: nobody/nothing: no such model on")]
    public void Bad_names_are_one_line(string name, string message)
    {
        var run = Pldr("pull", name);
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith(message, Assert.Single(run.Stderr.TrimEnd('\n').Split('\n')));
    }
}
