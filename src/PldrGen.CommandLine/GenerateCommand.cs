using System.CommandLine;
using System.Diagnostics;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Text;

namespace PldrGen.CommandLine;

/// <summary><c>pldr generate</c>: load a checkpoint, prefill the prompt, stream sampled tokens.</summary>
static class GenerateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var model = new ModelOptions();
        var run = new RunOptions();
        var noKvCache = new Option<bool>("--no-kv-cache") { Description = "Re-run the whole growing sequence each step (A recomputed)" };
        var noGCache = new Option<bool>("--no-g-cache") { Description = "Recompute G every step instead of reusing the prefill's" };
        var gCache = new Option<string?>("--g-cache") { Description = "Use this saved G-cache from prefill on (see 'pldr gcache')", HelpName = "FILE" };
        var dump = new Option<string?>("--dump") { Description = "Write prompt, logits, A/A_LM/G_LM and generated tokens as safetensors", HelpName = "FILE" };
        var stats = new Option<bool>("--stats") { Description = "Print the timings as one JSON line (last on stderr) instead of in words" };
        var command = new Command("generate", "Generate text with a PLDR-LLM");
        model.AddTo(command);
        run.AddTo(command);
        foreach (var option in new Option[] { noKvCache, noGCache, gCache, dump, stats })
            command.Add(option);

        command.SetAction(result =>
        {
            // Everything that can be wrong with the input is found before the first byte of output.
            var sampling = run.Check(result);
            string? dumpFile = result.GetValue(dump);
            if (dumpFile is not null && Path.GetDirectoryName(Path.GetFullPath(dumpFile)) is { } dumpFolder && !Directory.Exists(dumpFolder))
                throw new PldrException($"--dump: folder {dumpFolder} not found");
            string directory = model.ModelDirectory(result);
            var info = ModelResolver.Resolve(directory);
            var tokenizer = ModelOptions.TokenizerOf(directory);
            var prompt = model.PromptTokens(result, tokenizer, info.Config);
            var injected = result.GetValue(gCache) is { } gCacheFile ? GCache.Load(gCacheFile) : null;

            var loadClock = Stopwatch.StartNew();
            var pldr = run.Load(result, info, directory, stderr);
            var load = loadClock.Elapsed;
            try
            {
                var warmUp = run.WarmUp(result, pldr);
                pldr.UseKvCache = !result.GetValue(noKvCache);
                pldr.UseGCache = !result.GetValue(noGCache);
                if (injected is not null) pldr.InjectGCache(injected);

                var options = new GenerationOptions(result.GetValue(run.MaxNewTokens), sampling, result.GetValue(run.IgnoreEos),
                    KeepLogits: dumpFile is not null, EosToken: info.EosToken,
                    PrefillLogits: dumpFile is null ? null : new float[prompt.Length * info.Config.VocabSize]);

                var output = new TextOutput(stdout);
                var text = tokenizer?.CreateStreamingDecoder();
                if (text is not null)
                    foreach (int id in prompt) output.Write(text.Append(id));
                var generated = TextGeneration.Run(pldr, prompt, options, token => output.Write(text is null ? $"{token} " : text.Append(token)), cancel);
                output.WriteLine(text?.Flush() ?? "");
                if (generated.ContextFull) stderr.WriteLine($"pldr: stopped at the context limit ({info.Config.MaxPositionEmbeddings} positions)");
                if (generated.Cancelled) stderr.WriteLine($"pldr: stopped by Ctrl-C after {generated.Tokens.Count} tokens");

                if (dumpFile is not null) Dump(dumpFile, info, generated, options.PrefillLogits!);
                RunReport.Write(stderr, result.GetValue(stats), info, pldr, result.GetValue(run.Device)!, injected is not null, load, warmUp, prompt, generated);
                return generated.Cancelled ? PldrCli.InterruptedExitCode : 0;
            }
            finally
            {
                (pldr as IDisposable)?.Dispose(); // a device model frees its device, on every path
            }
        });
        return command;
    }

    /// <summary>Writes the run like the fixtures: prompt, prefill.logits, layer{l}.A/A_LM/G_LM, generated.tokens/logits.</summary>
    static void Dump(string path, PldrModelInfo info, GenerationResult run, float[] prefillLogits)
    {
        int vocab = info.Config.VocabSize;
        var tensors = new List<SafeTensorsWriter.Tensor>
        {
            SafeTensorsWriter.Int32("prompt", [run.Prompt.Length], run.Prompt),
            SafeTensorsWriter.Float32("prefill.logits", [run.Prompt.Length, vocab], prefillLogits),
        };
        var g = run.PrefillGCache!;
        int[] shape = [g.Heads, g.HeadDim, g.HeadDim];
        bool computed = info.Config.LearnedG && g.A.Any(v => v != 0);
        for (int l = 0; l < g.Layers; l++)
        {
            if (computed)
            {
                tensors.Add(SafeTensorsWriter.Float32($"layer{l}.A", shape, g.LayerA(l)));
                tensors.Add(SafeTensorsWriter.Float32($"layer{l}.A_LM", shape, g.LayerALm(l)));
            }
            tensors.Add(SafeTensorsWriter.Float32($"layer{l}.G_LM", shape, g.LayerG(l)));
        }
        tensors.Add(SafeTensorsWriter.Int32("generated.tokens", [run.Tokens.Count], run.Tokens.ToArray()));
        tensors.Add(SafeTensorsWriter.Float32("generated.logits", [run.Logits.Count, vocab], run.Logits.SelectMany(r => r).ToArray()));
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["model"] = info.TypeName });
    }
}
