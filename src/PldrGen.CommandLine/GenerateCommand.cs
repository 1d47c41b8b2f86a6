using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Kernels;
using PldrGen.Runtime.Text;

namespace PldrGen.CommandLine;

/// <summary><c>pldr generate</c>: load a checkpoint, prefill the prompt, stream sampled tokens.</summary>
static class GenerateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new ModelOptions();
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 64, HelpName = "N" };
        var greedy = new Option<bool>("--greedy") { Description = "Always take the likeliest token (top-k 1)" };
        var temperature = new Option<float>("--temperature") { Description = "Divide logits by T when T < 1 (0 < T ≤ 1)", DefaultValueFactory = _ => 1f, HelpName = "T" };
        var topK = new Option<int>("--top-k") { Description = "Keep the K likeliest tokens (0 = off)", DefaultValueFactory = _ => 0, HelpName = "K" };
        var topP = new Option<float>("--top-p") { Description = "Keep the likeliest tokens while their cumulative probability ≤ P", DefaultValueFactory = _ => 0.9f, HelpName = "P" };
        var seed = new Option<int>("--seed") { Description = "Random seed: the same seed gives the same text", DefaultValueFactory = _ => 0, HelpName = "S" };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating after [END]" };
        var noKvCache = new Option<bool>("--no-kv-cache") { Description = "Re-run the whole growing sequence each step (A recomputed)" };
        var noGCache = new Option<bool>("--no-g-cache") { Description = "Recompute G every step instead of reusing the prefill's" };
        var gCache = new Option<string?>("--g-cache") { Description = "Use this saved G-cache from prefill on (see 'pldr gcache')", HelpName = "FILE" };
        var weights = new Option<string>("--weights")
        {
            Description = "Weight matrices in memory: stored (as in the file), f32, bf16 (half the bytes per token) or int8 (a quarter, per-row scales); bf16 from f32 and int8 are lossy",
            DefaultValueFactory = _ => "stored", HelpName = "FORMAT",
        };
        weights.AcceptOnlyFromAmong("stored", "f32", "bf16", "int8");
        var device = new Option<string>("--device")
        {
            Description = $"Where to run: {string.Join(", ", PldrDevices.Names)}", DefaultValueFactory = _ => PldrDevices.Cpu, HelpName = "DEVICE",
        };
        var dump = new Option<string?>("--dump") { Description = "Write prompt, logits, A/A_LM/G_LM and generated tokens as safetensors", HelpName = "FILE" };
        var stats = new Option<bool>("--stats") { Description = "Print timings as one JSON line, last on stderr" };
        var command = new Command("generate", "Generate text with a PLDR-LLM");
        model.AddTo(command);
        foreach (var option in new Option[] { maxNewTokens, greedy, temperature, topK, topP, seed, ignoreEos, noKvCache, noGCache, gCache, weights, device, dump, stats })
            command.Add(option);

        command.SetAction(result =>
        {
            string deviceName = result.GetValue(device)!;
            var sampling = result.GetValue(greedy)
                ? GreedyOnly(result, temperature, topK, topP)
                : new SamplingOptions(result.GetValue(temperature), result.GetValue(topK), result.GetValue(topP), result.GetValue(seed));
            // The command line keeps the authors' range; the engine also takes 0 (greedy) and above 1.
            if (!(sampling.Temperature > 0 && sampling.Temperature <= 1)) throw new PldrException($"--temperature must be in (0, 1], got {sampling.Temperature}");
            sampling.Validate();

            string directory = model.ModelDirectory(result);
            var info = ModelResolver.Resolve(directory);
            var loadClock = Stopwatch.StartNew();
            var precision = result.GetValue(weights) switch
            {
                "f32" => WeightPrecision.Float32,
                "bf16" => WeightPrecision.BFloat16,
                "int8" => WeightPrecision.Int8,
                _ => (WeightPrecision?)null,
            };
            if (deviceName != PldrDevices.Cpu && precision is not null)
                throw new PldrException($"--weights applies to the cpu device; --device {deviceName} keeps float32 weights");
            var pldr = deviceName == PldrDevices.Cpu ? info.Load(directory, precision) : LoadOnDevice(info, directory, deviceName);
            double loadMs = loadClock.Elapsed.TotalMilliseconds;
            try
            {
                var tokenizer = ModelOptions.TokenizerOf(directory);
                var prompt = model.PromptTokens(result, tokenizer);

                pldr.UseKvCache = !result.GetValue(noKvCache);
                pldr.UseGCache = !result.GetValue(noGCache);
                if (result.GetValue(gCache) is { } gCacheFile) pldr.InjectGCache(GCache.Load(gCacheFile));

                string? dumpFile = result.GetValue(dump);
                var options = new GenerationOptions(result.GetValue(maxNewTokens), sampling, result.GetValue(ignoreEos),
                    KeepLogits: dumpFile is not null, EosToken: info.EosToken,
                    PrefillLogits: dumpFile is null ? null : new float[prompt.Length * info.Config.VocabSize]);

                var text = tokenizer?.CreateStreamingDecoder();
                if (text is not null)
                {
                    foreach (int id in prompt) stdout.Write(text.Append(id));
                    stdout.Flush();
                }
                var run = TextGeneration.Run(pldr, prompt, options, token =>
                {
                    stdout.Write(text is null ? $"{token} " : text.Append(token));
                    stdout.Flush();
                });
                stdout.WriteLine(text?.Flush() ?? "");
                if (run.ContextFull) stderr.WriteLine($"pldr: stopped at the context limit ({info.Config.MaxPositionEmbeddings} positions)");

                if (dumpFile is not null) Dump(dumpFile, info, run, options.PrefillLogits!);
                if (result.GetValue(stats))
                {
                    var s = new RunStats(info.Name, deviceName, CacheMode(pldr, result.GetValue(gCache) is not null), Math.Round(loadMs, 3),
                        prompt.Length, Ms(run.PrefillTime), PerSecond(prompt.Length, run.PrefillTime),
                        run.DecodeSteps, Ms(run.DecodeTime), PerSecond(run.DecodeSteps, run.DecodeTime), run.Tokens.Count);
                    stderr.WriteLine(JsonSerializer.Serialize(s, CliJson.Default.RunStats));
                }
            }
            finally
            {
                (pldr as IDisposable)?.Dispose(); // a device model frees its device, on every path
            }
            return 0;
        });
        return command;
    }

    static IPldrModel LoadOnDevice(PldrModelInfo info, string directory, string device) =>
        PldrDevices.Find(device) is { } load ? load(info, directory)
        : throw new PldrException($"--device {device}: " +
            (PldrDevices.WhyUnavailable(device) ?? $"not available in this build; the devices are: {string.Join(", ", PldrDevices.Names)}"));

    static SamplingOptions GreedyOnly(ParseResult result, params Option[] conflicting)
    {
        foreach (var option in conflicting)
            if (result.GetResult(option) is { Implicit: false })
                throw new PldrException($"--greedy already fixes the choice (top-k 1); drop {option.Name}");
        return SamplingOptions.Greedy;
    }

    static string CacheMode(IPldrModel model, bool injected) =>
        (model.UseKvCache ? "kv-cache" : "no-kv-cache") + "," + (injected ? "injected-g-cache" : model.UseGCache ? "g-cache" : "no-g-cache");

    static double Ms(TimeSpan t) => Math.Round(t.TotalMilliseconds, 3);
    static double PerSecond(int tokens, TimeSpan t) => t.TotalSeconds > 0 ? Math.Round(tokens / t.TotalSeconds, 2) : 0;

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
