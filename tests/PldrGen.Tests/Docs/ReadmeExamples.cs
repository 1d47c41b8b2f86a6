using PldrGen.Runtime.Engine;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.Tests.Docs;

/// <summary>
/// The README's C# blocks as written, compiled with the tests (ReadmeTests checks that each block's lines appear here
/// in order); not run, as they name placeholder paths. MyApp.Models.MyModel is Docs/my-model.pldr.yaml.
/// </summary>
public static class ReadmeExamples
{
    // "Then use the model directly"
    public static void UseTheModelDirectly(int[] promptTokens, int nextToken)
    {
        var model = MyApp.Models.MyModel.Load("path/to/checkpoint");     // checks config.json and every tensor first
        var logits = model.Prefill(promptTokens);                         // fills K/V, freezes A, fills the G-cache slot
        logits = model.Decode(nextToken);                                 // one position, cached G, no allocation
        GCache g = model.CaptureGCache();                                 // A, A_LM, G_LM per layer (the deductive outputs)
    }

    // "Many sequences at once: the engine"
    public static async Task UseTheEngine(CancellationToken cancellationToken)
    {
        using var engine = PldrEngine.Load(MyApp.Models.MyModel.ModelInfo, "path/to/checkpoint", new EngineOptions { Slots = 16 });
        var options = new GenerateOptions { MaxTokens = 64, Sampling = new SamplingOptions(TopP: 0.9f) { MinP = 0.02f }, Stop = ["\n\n"] };
        await foreach (var token in engine.GenerateAsync("The import statement", options, cancellationToken))
            Console.Write(token.Text);                                    // UTF-8-safe pieces; the last token carries token.Finish
        GenerateResult done = await engine.CompleteAsync(new[] { 5, 17, 42 }, options with { LogProbs = true, TopLogProbs = 5 });
        // done.Text, done.TokenIds, done.StopReason (EndToken, Length, StopString, ContextFull, Cancelled), done.Seed, done.Timings
    }

    // "From your own app, with your own spec, one call"
    public static async Task ServeFromYourApp()
    {
        await PldrGen.Server.PldrServer.RunAsync(new PldrGen.Server.PldrServerOptions { Model = MyApp.Models.MyModel.ModelInfo, ModelDirectory = "path/to/checkpoint", Slots = 4 });
    }
}
