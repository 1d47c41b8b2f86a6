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

    // "From your own app, with your own spec, one call"
    public static async Task ServeFromYourApp()
    {
        await PldrGen.Server.PldrServer.RunAsync(new PldrGen.Server.PldrServerOptions { Model = MyApp.Models.MyModel.ModelInfo, ModelDirectory = "path/to/checkpoint", Slots = 4 });
    }
}
