using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using PldrGen.Runtime.Chat;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Tests.Models;
using Xunit;

namespace PldrGen.Tests.Readme;

/// <summary>
/// README.md's app example cannot rot: the README shows exactly the code of <c>EngineAppExample.cs</c> (compiled
/// into this assembly), and that code runs on the demo model and prints what the engine generates.
/// </summary>
public sealed partial class ReadmeExampleTests
{
    static string RepositoryFile(string relative)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "PldrGen.sln"))) return Path.Combine(directory.FullName, relative);
        throw new FileNotFoundException($"no PldrGen.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"// README:begin\n(?<code>.*?)// README:end", RegexOptions.Singleline)]
    private static partial Regex Marked();

    [GeneratedRegex(@"<!-- the code of tests/PldrGen.Tests/Readme/EngineAppExample.cs -->\n```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex ReadmeBlock();

    static string Code(Regex regex, string file)
    {
        var match = regex.Match(File.ReadAllText(RepositoryFile(file)).ReplaceLineEndings("\n"));
        Assert.True(match.Success, $"{file}: the example's markers are missing");
        return match.Groups["code"].Value;
    }

    [Fact]
    public void The_readme_shows_exactly_the_compiled_example() =>
        Assert.Equal(Code(Marked(), "tests/PldrGen.Tests/Readme/EngineAppExample.cs"), Code(ReadmeBlock(), "README.md"));

    [Fact]
    public async Task The_example_streams_cancels_and_chats_on_the_demo_model()
    {
        var output = new StringWriter { NewLine = "\n" };
        await EngineAppExample.RunAsync(Fixtures.ModelDir("pldr-tiny-pydoc"), output, CancellationToken.None);

        using var engine = PldrEngine.Load(CompiledModels.Info("pldr-tiny-pydoc"), Fixtures.ModelDir("pldr-tiny-pydoc"), new EngineOptions { Slots = 1 });
        var streamed = await engine.CompleteAsync("The import statement", new GenerateOptions { MaxTokens = 48, Sampling = new SamplingOptions(TopP: 0.9f, Seed: 1) { MinP = 0.02f }, Stop = ["\n\n"] });
        var reply = await engine.AsIChatClient().GetResponseAsync("What does the import statement do?", new ChatOptions { Temperature = 0, MaxOutputTokens = 32 });
        Assert.NotEmpty(streamed.Text);
        Assert.Equal($"{streamed.Text}\nstopped after 8 tokens\n{reply.Text}\n", output.ToString());
    }

    [Fact]
    public async Task The_examples_own_token_cancels_it() =>
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            EngineAppExample.RunAsync(Fixtures.ModelDir("pldr-tiny-pydoc"), TextWriter.Null, new CancellationToken(canceled: true)));
}
