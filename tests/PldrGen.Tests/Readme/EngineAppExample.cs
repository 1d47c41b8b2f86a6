// README.md's app example is exactly the code between the markers (ReadmeExampleTests compares them and runs it).
// README:begin
using Microsoft.Extensions.AI;
using PldrGen.Models;            // the demo model's spec, compiled in (use your own spec's namespace)
using PldrGen.Runtime.Chat;
using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;

static class EngineAppExample
{
    public static async Task RunAsync(string checkpoint, TextWriter output, CancellationToken cancellationToken)
    {
        // load: the checkpoint folder (config.json, model.safetensors, tokenizer.model); 4 slots share one copy of the weights
        using var engine = PldrEngine.Load(PldrTinyPydoc.ModelInfo, checkpoint, new EngineOptions { Slots = 4 });
        var options = new GenerateOptions { MaxTokens = 48, Sampling = new SamplingOptions(TopP: 0.9f, Seed: 1) { MinP = 0.02f }, Stop = ["\n\n"] };

        // stream: UTF-8-safe pieces; the last token carries token.Finish (reason, seed, timings)
        await foreach (var token in engine.GenerateAsync("The import statement", options, cancellationToken))
            output.Write(token.Text);
        output.WriteLine();

        // cancel: the caller's token ends a stream with OperationCanceledException and frees its slot at the next step
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        int received = 0;
        try
        {
            await foreach (var token in engine.GenerateAsync("The for statement", options with { IgnoreEos = true, Stop = [] }, stop.Token))
                if (++received == 8) stop.Cancel();   // say, the user pressed Stop
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { }
        output.WriteLine($"stopped after {received} tokens");

        // Microsoft.Extensions.AI: the conversation in the base-model prompt format (BaseModelChat), on the same slots
        IChatClient chat = engine.AsIChatClient();
        ChatResponse reply = await chat.GetResponseAsync("What does the import statement do?", new ChatOptions { Temperature = 0, MaxOutputTokens = 32 }, cancellationToken);
        output.WriteLine(reply.Text);
    }
}
// README:end
