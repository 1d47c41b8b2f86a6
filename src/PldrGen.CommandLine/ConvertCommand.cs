using PldrGen.Runtime;
using System.CommandLine;
using System.Text.Json;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Checkpoints.Torch;

namespace PldrGen.CommandLine;

/// <summary>
/// <c>pldr convert --from-pth</c>: the authors' PyTorch checkpoint (and a custom-G model's G_LM pickle) as a Hugging
/// Face folder; with only <c>--g-pickle</c>, a predefined G_LM as a G-cache file.
/// </summary>
static class ConvertCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var fromPth = new Option<string?>("--from-pth") { Description = "A checkpoint of the authors' training code (torch.save zip or legacy format)", HelpName = "FILE" };
        var gPickle = new Option<string?>("--g-pickle") { Description = "A predefined G_LM pickle (list of [1, H, dk, dk] per layer): the G of a custom-G model, or alone a G-cache file", HelpName = "FILE" };
        var config = new Option<string?>("--config") { Description = "The model's Hugging Face config.json", HelpName = "FILE" };
        var hparams = new Option<string?>("--hparams") { Description = "A JSON of the authors' hpdict keys (num_layers, d_model, num_heads, dff, A_dff, num_reslayerA, num_denseA, input_vocab_size, max_seq_len)", HelpName = "FILE" };
        var customG = new Option<string?>("--custom-g-type") { Description = "With --hparams: the custom_G_type of a v510G model (default with --g-pickle: external)", HelpName = "TYPE" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "A tokenizer.model to copy into the folder", HelpName = "FILE" };
        var output = new Option<string>("--out") { Description = "The model folder to write (or, with only --g-pickle, the G-cache file)", HelpName = "PATH", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var progressOption = ProgressOption.Create();
        var command = new Command("convert", "Convert the authors' .pth checkpoints and G_LM pickles") { fromPth, gPickle, config, hparams, customG, tokenizer, output, json, progressOption };
        command.SetAction(result =>
        {
            string outPath = result.GetValue(output)!;
            string? pth = result.GetValue(fromPth), g = result.GetValue(gPickle);
            if (pth is null)
            {
                if (g is null) throw new PldrException("give --from-pth FILE (and --config or --hparams), or --g-pickle FILE alone");
                var cache = PthConverter.ConvertGPickle(g, outPath);
                Print(stdout, result.GetValue(json), new ConvertReport(outPath, "gcache", 0, cache.G.LongLength, null),
                    $"wrote {outPath}: G-cache {cache.ShapeText} from {g}");
                return 0;
            }
            string? configPath = result.GetValue(config), hparamsPath = result.GetValue(hparams);
            if ((configPath is null) == (hparamsPath is null)) throw new PldrException("give the model's shape with --config config.json or --hparams hpdict.json (one of them)");
            var shape = configPath is not null ? PldrConfig.Load(configPath)
                : AuthorsHyperparameters.Load(hparamsPath!, result.GetValue(customG) ?? (g is null ? null : "external"));
            PthConverter.Result converted;
            using (var progress = ProgressOption.Start(result, progressOption, stderr, "reading " + pth))
                converted = PthConverter.Convert(pth, g, shape, outPath, progress);
            if (result.GetValue(tokenizer) is { } tokenizerPath)
            {
                if (!File.Exists(tokenizerPath)) throw new PldrException($"{tokenizerPath}: file not found");
                File.Copy(tokenizerPath, Path.Combine(outPath, "tokenizer.model"), overwrite: true);
            }
            var compiled = PldrModelCatalog.All.FirstOrDefault(m => m.Config.FirstDifference(shape) is null);
            compiled?.Load(outPath); // every tensor name, shape and type checked against the compiled spec
            Print(stdout, result.GetValue(json), new ConvertReport(outPath, "model", converted.Tensors, converted.Parameters, compiled?.Name),
                $"wrote {outPath}: {converted.Tensors} tensors, {converted.Parameters:N0} parameters; " +
                (compiled is null ? "no compiled spec has this shape (see 'pldr spec --from-config')" : $"loads as the compiled spec {compiled.Name}"));
            return 0;
        });
        return command;
    }

    static void Print(TextWriter stdout, bool json, ConvertReport report, string text) =>
        stdout.WriteLine(json ? JsonSerializer.Serialize(report, ResearchJson.Default.ConvertReport) : text);
}
