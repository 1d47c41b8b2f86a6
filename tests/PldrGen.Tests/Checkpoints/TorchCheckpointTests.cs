using System.IO.Compression;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Checkpoints.Torch;
using PldrGen.Tests.Cli;
using PldrGen.Tests.Models;
using Xunit;
using Xunit.Abstractions;

namespace PldrGen.Tests.Checkpoints;

/// <summary>
/// The authors' .pth checkpoints and G_LM pickles (tests/fixtures/pth) through the restricted unpickler: each
/// converted folder holds the fixture model's exact weights and reproduces its reference; hostile pickles are refused.
/// </summary>
public sealed class TorchCheckpointTests(ITestOutputHelper output)
{
    static string Pth(string file) => Path.Combine(Fixtures.Root, "pth", file);

    public static TheoryData<string, string?, string?> Conversions => new()
    {
        { "tiny-v510", null, "tiny-v510.hparams.json" },        // save_model, shape from the authors' hpdict
        { "odd-v510", null, null },                             // fsdp_save_model (no optimizer state), shape from config.json
        { "tiny-v510G-external", "tiny-v510G-external.G_LM.pkl", "tiny-v510G-external.hparams.json" },
    };

    [Theory, MemberData(nameof(Conversions))]
    public void A_converted_pth_holds_the_fixtures_weights_and_reproduces_its_reference(string name, string? gPickle, string? hparams)
    {
        using var dir = new TempDirectory();
        var config = hparams is null ? Fixtures.Config(name) : AuthorsHyperparameters.Load(Pth(hparams), gPickle is null ? null : "external");
        Assert.Null(Fixtures.Config(name).FirstDifference(config));
        PthConverter.Convert(Pth(name + ".pth"), gPickle is null ? null : Pth(gPickle), config, dir.Path);

        using (var converted = SafeTensorsFile.Open(dir.File("model.safetensors")))
        using (var expected = SafeTensorsFile.Open(Path.Combine(Fixtures.ModelDir(name), "model.safetensors")))
        {
            Assert.Equal(expected.Tensors.Keys.Order(), converted.Tensors.Keys.Order());
            foreach (var tensor in expected.Tensors.Values)
            {
                Assert.Equal(tensor.Shape, converted.Entry(tensor.Name).Shape);
                Assert.True(expected.Bytes(tensor).SequenceEqual(converted.Bytes(converted.Entry(tensor.Name))), $"{name}: tensor {tensor.Name} differs");
            }
        }

        var model = CompiledModels.Info(name).Load(dir.Path);
        using var reference = Fixtures.Reference(name);
        var (_, errors) = TeacherForced.Check($"{name} from .pth", model, reference, reference.ReadInt32("prompt"), "greedy", 1e-4);
        output.WriteLine($"{name} converted from .pth: greedy tokens exact, logits {errors}");
    }

    [Fact]
    public void The_papers_PLDRv51_110M_1_pickle_gives_the_published_G_LM_exactly()
    {
        using var file = TorchFile.Open(Pth("predefined_G_LM_cache_list_PLDRv51_110M_1_5layer_14head_64x64_paper.pkl"));
        var g = file.PredefinedG();
        var published = GCache.Load(Path.Combine(Fixtures.Root, "g-lm", "pldr-v51-110m-1.safetensors"));
        Assert.Equal((published.Layers, published.Heads, published.HeadDim), (g.Layers, g.Heads, g.HeadDim));
        Assert.Equal(published.G, g.G); // bit for bit
    }

    [Fact]
    public void Convert_with_only_a_g_pickle_writes_a_g_cache_that_generate_accepts()
    {
        using var dir = new TempDirectory();
        string gcache = dir.File("g.safetensors");
        var run = PldrProgram.WithTestSpecs.Run("convert", "--g-pickle", Pth("tiny-v510G-external.G_LM.pkl"), "--out", gcache, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("\"kind\":\"gcache\"", run.Stdout);
        using var reference = Fixtures.Reference("tiny-v510G-external");
        var loaded = GCache.Load(gcache);
        for (int l = 0; l < loaded.Layers; l++) Assert.Equal(reference.ReadFloat32($"layer{l}.G_LM"), loaded.LayerG(l).ToArray());
    }

    [Fact]
    public void The_convert_command_writes_a_folder_that_generates_the_fixtures_tokens()
    {
        using var dir = new TempDirectory();
        string folder = Path.Combine(dir.Path, "model");
        var run = PldrProgram.WithTestSpecs.Run("convert", "--from-pth", Pth("tiny-v510.pth"), "--hparams", Pth("tiny-v510.hparams.json"), "--out", folder);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("loads as the compiled spec TinyV510", run.Stdout);
        using var reference = Fixtures.Reference("tiny-v510");
        var prompt = string.Join(",", reference.ReadInt32("prompt"));
        var tokens = reference.ReadInt32("greedy.tokens");
        var generated = PldrProgram.WithTestSpecs.Run("generate", "--model", folder, "--tokens", prompt, "--greedy", "--ignore-eos", "--max-new-tokens", tokens.Length.ToString(), "--dump", Path.Combine(dir.Path, "dump.safetensors"));
        Assert.True(generated.ExitCode == 0, generated.Stderr);
        using var dump = SafeTensorsFile.Open(Path.Combine(dir.Path, "dump.safetensors"));
        Assert.Equal(tokens, dump.ReadInt32("generated.tokens"));
    }

    // A pickle that names any other global is refused before anything is called: os.system, builtins.eval, and a
    // torch name that is not a tensor constructor.
    public static TheoryData<string, string> HostileGlobals => new()
    {
        { "os", "system" }, { "builtins", "eval" }, { "torch", "load" }, { "collections", "defaultdict" },
    };

    [Theory, MemberData(nameof(HostileGlobals))]
    public void A_pickle_asking_for_any_other_constructor_is_refused_in_one_line(string module, string name)
    {
        using var dir = new TempDirectory();
        // protocol 2: GLOBAL module name, MARK, 'echo pwned', TUPLE, REDUCE, STOP
        var pickle = new List<byte> { 0x80, 2, (byte)'c' };
        pickle.AddRange(System.Text.Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        pickle.Add((byte)'(');
        pickle.Add(0x8c); pickle.Add(10); pickle.AddRange("echo pwned"u8.ToArray());
        pickle.AddRange("tR."u8.ToArray());
        string plain = dir.File("hostile.pkl"), zip = dir.File("hostile.pth");
        File.WriteAllBytes(plain, pickle.ToArray());
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        using (var entry = archive.CreateEntry("hostile/data.pkl", CompressionLevel.NoCompression).Open())
            entry.Write(pickle.ToArray());

        foreach (var path in new[] { plain, zip })
        {
            var e = Assert.Throws<PldrException>(() => TorchFile.Open(path));
            Assert.Equal($"{path}: refused to unpickle '{module}.{name}': only the constructors of saved tensors are allowed (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.*Storage)", e.Message);
        }
        var run = PldrProgram.WithTestSpecs.Run("convert", "--from-pth", zip, "--config", Path.Combine(Fixtures.ModelDir("tiny-v510"), "config.json"), "--out", dir.File("out"));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"pldr: {zip}: refused to unpickle '{module}.{name}': only the constructors of saved tensors are allowed (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.*Storage)\n", run.Stderr);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void Every_truncation_of_a_checkpoint_is_refused_with_a_message()
    {
        using var dir = new TempDirectory();
        var bytes = File.ReadAllBytes(Pth("tiny-v510G-external.G_LM.pkl"));
        string path = dir.File("cut.pkl");
        for (int length = 0; length < bytes.Length; length += 97)
        {
            File.WriteAllBytes(path, bytes[..length]);
            var e = Assert.Throws<PldrException>(() => { using var file = TorchFile.Open(path); file.PredefinedG(); });
            Assert.StartsWith(path + ": ", e.Message);
        }
    }

    [Fact]
    public void A_checkpoint_whose_shape_disagrees_with_the_config_is_refused()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<PldrException>(() => PthConverter.Convert(Pth("odd-v510.pth"), null, Fixtures.Config("tiny-v510"), dir.Path));
        Assert.Equal($"{Pth("odd-v510.pth")}: tensor 'decoder.embedding.weight' is [97, 36], the config gives [256, 64] (vocab_size, hidden_size)", e.Message);
        var missingG = Assert.Throws<PldrException>(() => PthConverter.Convert(Pth("tiny-v510G-external.pth"), null, Fixtures.Config("tiny-v510G-external"), dir.Path));
        Assert.Contains("give it with --g-pickle", missingG.Message);
    }
}

/// <summary>Seeded random corruption of the pickles: every outcome is a tensor list or a PldrException, never a crash.</summary>
public sealed class TorchCheckpointFuzzTests
{
    static string Pth(string file) => Path.Combine(Fixtures.Root, "pth", file);

    static void Survives(string path, Action<TorchFile> read)
    {
        try
        {
            using var file = TorchFile.Open(path);
            read(file);
        }
        catch (PldrException e) { Assert.StartsWith(path + ": ", e.Message); }
    }

    static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        for (int n = random.Next(1, 5); n > 0; n--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
        return random.Next(4) == 0 ? bytes[..random.Next(bytes.Length)] : bytes;
    }

    [Fact]
    public void A_corrupted_g_lm_pickle_is_read_or_refused()
    {
        using var dir = new TempDirectory();
        var original = File.ReadAllBytes(Pth("tiny-v510G-external.G_LM.pkl"));
        var random = new Random(15);
        string path = dir.File("fuzz.pkl");
        for (int i = 0; i < 600; i++)
        {
            File.WriteAllBytes(path, Mutate(original, random));
            Survives(path, file => file.PredefinedG());
        }
    }

    [Fact]
    public void A_checkpoint_with_a_corrupted_data_pkl_is_read_or_refused()
    {
        using var dir = new TempDirectory();
        byte[] pickle;
        using (var zip = ZipFile.OpenRead(Pth("odd-v510.pth")))
        using (var stream = zip.GetEntry("odd-v510/data.pkl")!.Open())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            pickle = copy.ToArray();
        }
        var random = new Random(11);
        string path = dir.File("fuzz.pth");
        for (int i = 0; i < 300; i++)
        {
            File.Copy(Pth("odd-v510.pth"), path, overwrite: true);
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
            {
                zip.GetEntry("odd-v510/data.pkl")!.Delete();
                using var entry = zip.CreateEntry("odd-v510/data.pkl", CompressionLevel.NoCompression).Open();
                entry.Write(Mutate(pickle, random));
            }
            Survives(path, file => { foreach (var (name, tensor) in file.StateDict()) tensor.ToFloat32(name); });
        }
    }
}
