using System.Security.Cryptography;
using System.Text;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using PldrGen.Generator;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Checkpoints.Torch;
using PldrGen.Runtime.Text;

namespace PldrGen.Fuzz;

/// <summary>What one input did: a clean refusal, an acceptance, or a bad outcome (with what went wrong).</summary>
enum Outcome { Rejected, Accepted, Bad }

/// <summary>
/// One input's result; <paramref name="Check"/> is further verification outside the time and memory budget (the
/// compilation of an accepted spec's model), returning what went wrong or null.
/// </summary>
sealed record Result(Outcome Outcome, string? Problem = null, Func<string?>? Check = null);

/// <summary>A loader under fuzzing: valid seeds, the tokens its format is made of, and one run over an input file.</summary>
sealed record Target(string Name, string FileName, IReadOnlyList<byte[]> Seeds, IReadOnlyList<string> Tokens, Func<string, Result> Run);

static class Targets
{
    static readonly string Repo = typeof(Targets).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
    static string RepoFile(params string[] parts) => Path.Combine([Repo, .. parts]);
    static string Demo(string file) => RepoFile("models", "pldr-tiny-pydoc", file);
    // The shipped specs and the test fixtures' specs, ordered by file name (the order they had in one folder).
    static IEnumerable<string> SpecSeeds() =>
        new[] { RepoFile("specs"), RepoFile("tests", "specs") }.SelectMany(d => Directory.GetFiles(d, "*.pldr.yaml")).OrderBy(Path.GetFileName, StringComparer.Ordinal);
    static string Pth(string file) => RepoFile("tests", "fixtures", "pth", file);

    static void ReadStateDict(string path)
    {
        using var file = TorchFile.Open(path);
        foreach (var (name, tensor) in file.StateDict()) tensor.ToFloat32(name);
    }

    const string PthPickle = "odd-v510/data.pkl";

    static Dictionary<string, byte[]> ZipEntries(string path)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var stream = e.Open();
            var bytes = new MemoryStream();
            stream.CopyTo(bytes);
            return bytes.ToArray();
        });
    }

    /// <summary>
    /// A mutated data.pkl inside an otherwise intact torch zip (the smallest fixture checkpoint's storages, stored
    /// as torch.save stores them): most whole-file mutations land in tensor bytes or the zip's bookkeeping, these all
    /// reach the unpickler with its storages in place.
    /// </summary>
    static Func<string, Result> PthPickleRun()
    {
        var entries = ZipEntries(Pth("odd-v510.pth"));
        return path =>
        {
            string pth = path + ".pth";
            using (var zip = System.IO.Compression.ZipFile.Open(pth, System.IO.Compression.ZipArchiveMode.Create))
                foreach (var (name, bytes) in entries)
                {
                    using var stream = zip.CreateEntry(name, System.IO.Compression.CompressionLevel.NoCompression).Open();
                    stream.Write(name == PthPickle ? File.ReadAllBytes(path) : bytes);
                }
            try { return Refusal(() => ReadStateDict(pth)); }
            finally { File.Delete(pth); }
        };
    }

    static IEnumerable<string> FixtureModels => Directory.GetDirectories(RepoFile("tests", "fixtures", "models")).Order(StringComparer.Ordinal).Append(Demo(""));

    static readonly string[] JsonTokens =
        ["\"\\ud800\"", "\"\\udfff\\ud800\"", "1e400", "-1e400", "1e-400", "-1", "0", "2147483648", "9223372036854775808", "-9223372036854775809",
         "1.5", "null", "true", "[]", "{}", "\"\"", "[[[[[[[[", "{\"a\":", "\\u0000", ",", ":", "\"__metadata__\"", "\"dtype\"", "\"shape\"",
         "\"data_offsets\"", "\"I64\"", "\"BOOL\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"hidden_size\"", "\"head_dim\"", "\"custom_G_type\"", "\"identity\""];
    static readonly string[] YamlTokens =
        ["...", "---", "\0", "{", "[", "}", "]", "&a ", "*a", "!!binary ", "!!str ", "1e39", "1e-46", "-", "? ", ": ", "\n", "  ", "\t", "#", "'", "\"",
         "\\ud800", "<<: ", "null", "~", "0x7FFFFFFF", "2147483648", "-0.0", ".inf", ".nan", "class", "Infinity", "NaN", "head_dim: ", "hidden_size: ",
         "custom_G_type: identity\n", "namespace: ", "A.B..C", "System", "eos_token_id: "];

    public static IReadOnlyList<Target> All() =>
    [
        new("safetensors", "model.safetensors", SafeTensorsSeeds(), JsonTokens, path => Refusal(() =>
        {
            using var file = SafeTensorsFile.Open(path);
            foreach (var (name, entry) in file.Tensors)
                if (entry.DType is TensorDType.I32 or TensorDType.I64) file.ReadInt32(name);
                else if (entry.DType != TensorDType.Bool) file.ReadFloat32(name);
        })),
        new("config", "config.json", [.. FixtureModels.Select(d => File.ReadAllBytes(Path.Combine(d, "config.json")))], JsonTokens, path => Refusal(() =>
            SpecWriter.FromConfig(PldrConfig.Load(path), "Fuzzed", "Fuzz.Models", path))),
        new("gcache", "g.safetensors", GCacheSeeds(), JsonTokens, path => Refusal(() => GCache.Load(path))),
        new("tokenizer-model", "tokenizer.model",
            [File.ReadAllBytes(Demo("tokenizer.model")), File.ReadAllBytes(RepoFile("tests", "fixtures", "tokenizer", "hostile", "cycle.model"))],
            ["\u2581", "<0x41>", "[SEP]", "\n", "\0"], path => Refusal(() =>
            {
                var tokenizer = PldrTokenizer.Load(path);
                tokenizer.Decode(tokenizer.Encode("The import statement, \u2581 x\u00A0\uFB01 =====  \U0001F600 \u0007"));
            })),
        new("tokenizer-text", "text.txt", TextSeeds(), ["\u2581", "\uFFFD", "\u00A0", "\u200B", "\uFB01", "\r\n", " ", "\0", "\U0001F600", "[SEP]", "=====", "<0x41>"], TextRun()),
        new("spec", "test.pldr.yaml", [.. SpecSeeds().Select(File.ReadAllBytes)], YamlTokens, SpecRun),
        new("pth", "model.pth", [File.ReadAllBytes(Pth("odd-v510.pth"))], PickleTokens, path => Refusal(() => ReadStateDict(path))),
        new("pth-pickle", "data.pkl", [ZipEntries(Pth("odd-v510.pth"))[PthPickle]], PickleTokens, PthPickleRun()),
        new("pkl", "predefined_G_LM.pkl", [File.ReadAllBytes(Pth("tiny-v510G-external.G_LM.pkl"))], PickleTokens, path => Refusal(() =>
        {
            using var file = TorchFile.Open(path);
            file.PredefinedG();
        })),
    ];

    // Pickle opcodes with their arguments (as UTF-8: the Latin-1 ones become two bytes, themselves a mutation), the
    // globals a checkpoint names and some it must refuse, and zip signatures.
    static readonly string[] PickleTokens =
        ["\u0080\u0002", "}", "]", "(", ")", "t", "R", "b", "s", "u", "e", "a", ".", "0", "2", "N", "\u0088", "\u0089", "\u0085", "\u0086", "\u0087",
         "K\u00ff", "M\u00ff\u00ff", "J\u00ff\u00ff\u00ff\u007f", "\u008a\u0008\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u007f", "X\u00ff\u00ff\u00ff\u007f",
         "B\u00ff\u00ff\u00ff\u007f", "C\u00ff", "q\u0000", "h\u0000", "r\u00ff\u00ff\u00ff\u00ff", "j\u00ff\u00ff\u00ff\u00ff", "Q", "\u0094", "\u0095\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u007f",
         "ctorch._utils\n_rebuild_tensor_v2\n", "ctorch._utils\n_rebuild_parameter\n", "ccollections\nOrderedDict\n", "ctorch\nFloatStorage\n",
         "ctorch\nBFloat16Storage\n", "ctorch\nHalfStorage\n", "ctorch.storage\n_load_from_bytes\n", "cos\nsystem\n", "cbuiltins\neval\n",
         "X\u0007\u0000\u0000\u0000storage", "model_state_dict", "PK\u0003\u0004", "PK\u0001\u0002", "PK\u0005\u0006", "archive/data.pkl", "archive/data/0"];

    /// <summary>A clean refusal is a PldrException; any other exception is a bad outcome.</summary>
    static Result Refusal(Action run)
    {
        try
        {
            run();
            return new(Outcome.Accepted);
        }
        catch (PldrException) { return new(Outcome.Rejected); }
        catch (Exception e) { return new(Outcome.Bad, $"{e.GetType().Name}: {e.Message}"); }
    }

    static byte[][] SafeTensorsSeeds()
    {
        using var dir = new ScratchFolder();
        string path = dir.File("seed.safetensors");
        SafeTensorsWriter.Write(path, [SafeTensorsWriter.Float32("w", [2, 3], [1, 2, 3, 4, 5, 6]), SafeTensorsWriter.Int32("ids", [3], [7, 8, 9])],
            new Dictionary<string, string> { ["format"] = "pt", ["note"] = "seed" });
        return [File.ReadAllBytes(path), File.ReadAllBytes(RepoFile("tests", "fixtures", "models", "odd-v510", "model.safetensors"))];
    }

    static byte[][] GCacheSeeds()
    {
        using var dir = new ScratchFolder();
        var cache = new GCache(2, 2, 4);
        for (int i = 0; i < cache.G.Length; i++) (cache.G[i], cache.A[i], cache.ALm[i]) = (i, -i, i * 0.5f);
        cache.Save(dir.File("g.safetensors"), new Dictionary<string, string> { ["model"] = "Seed" });
        SafeTensorsWriter.Write(dir.File("stacked.safetensors"), [SafeTensorsWriter.Float32("G_LM", [2, 2, 4, 4], cache.G)]);
        return [File.ReadAllBytes(dir.File("g.safetensors")), File.ReadAllBytes(dir.File("stacked.safetensors"))];
    }

    static byte[][] TextSeeds()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(RepoFile("tests", "fixtures", "tokenizer", "cases.json")));
        return [.. doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => Encoding.UTF8.GetBytes(c.GetProperty("text").GetString()!))];
    }

    /// <summary>Text through the demo tokenizer: encoding never refuses, and ids must decode and stay in the vocabulary.</summary>
    static Func<string, Result> TextRun()
    {
        var tokenizer = PldrTokenizer.Load(Demo("tokenizer.model"));
        return path => Refusal(() =>
        {
            var ids = tokenizer.EncodePrompt(Encoding.UTF8.GetString(File.ReadAllBytes(path)));
            if (ids.Any(id => (uint)id >= (uint)tokenizer.VocabSize)) throw new InvalidOperationException("an id outside the vocabulary");
            tokenizer.Decode(ids);
        });
    }

    // ---- Specs through the generator, as the compiler runs it ----

    static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.CSharp13);
    static readonly CSharpCompilation Consumer = CSharpCompilation.Create("Fuzz.Consumer", [],
        [.. Net100.References.All, MetadataReference.CreateFromFile(typeof(IPldrModel).Assembly.Location)],
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    static readonly HashSet<string> Compiled = [];
    static GeneratorDriver Driver = CSharpGeneratorDriver.Create([new PldrGenerator().AsSourceGenerator()], parseOptions: ParseOptions);

    /// <summary>
    /// A rejection is an error diagnostic located inside the spec; an acceptance must compile without warnings. Bad: an
    /// escaped exception (CS8785), PLDR0099, a diagnostic outside the file, or generated code that does not compile.
    /// </summary>
    static Result SpecRun(string path)
    {
        string yaml = Encoding.UTF8.GetString(File.ReadAllBytes(path));
        // One driver for every input, as in an IDE: the steps over the unchanged consumer compilation stay cached.
        Driver = Driver.ReplaceAdditionalTexts([new SpecText("/fuzz/test.pldr.yaml", yaml)]).RunGenerators(Consumer);
        var result = Driver.GetRunResult().Results.Single();
        if (result.Exception is { } e) return new(Outcome.Bad, $"generator threw {e.GetType().Name}: {e.Message}");
        foreach (var d in result.Diagnostics)
        {
            if (d.Id == "PLDR0099") return new(Outcome.Bad, d.ToString());
            if (d.Location.Kind != LocationKind.ExternalFile || d.Location.SourceSpan.End > yaml.Length) return new(Outcome.Bad, "unlocated: " + d);
        }
        if (result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)) return new(Outcome.Rejected);
        // Each distinct generated model is compiled once: mutated specs repeat shapes often.
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(result.GeneratedSources.Select(s => s.SourceText.ToString())))));
        return new(Outcome.Accepted, Check: !Compiled.Add(hash) ? null : () =>
            Consumer.AddSyntaxTrees(result.GeneratedSources.Select(s => s.SyntaxTree)).GetDiagnostics()
                .FirstOrDefault(d => d.Severity >= DiagnosticSeverity.Warning) is { } problem ? "an accepted spec does not compile: " + problem : null);
    }

    sealed class SpecText(string path, string text) : AdditionalText
    {
        public override string Path => path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }
}

/// <summary>A scratch folder under the system temp folder, deleted on dispose.</summary>
sealed class ScratchFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("pldrgen-fuzz-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
