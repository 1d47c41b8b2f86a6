using Microsoft.Extensions.AI;
using PldrGen.Runtime.Chat;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Tests.Models;
using Xunit;

namespace PldrGen.Tests.Docs;

/// <summary>
/// README.md's app example (<c>EngineAppExample.cs</c>, whose lines <see cref="ReadmeTests"/> finds in the README
/// block) runs on the demo model and prints what the engine generates; its caller's token cancels it.
/// </summary>
public sealed class EngineAppExampleTests
{
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
