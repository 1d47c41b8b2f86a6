using System.Diagnostics;
using System.Text;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using PldrGen.Runtime.Text;
using Xunit;

namespace PldrGen.Tests.Checkpoints;

/// <summary>
/// The hostile files of issue 11 (found by fuzzing): each is refused with a PldrException naming the file and the
/// problem, within bounded time and memory, where it used to throw another exception, hang, or allocate gigabytes.
/// </summary>
public sealed class HostileFileTests
{
    const string LoneSurrogate = "\"\\ud800\"";

    static string Config(string replace, string with) =>
        File.ReadAllText(Path.Combine(Fixtures.ModelDir("tiny-v510"), "config.json")).Replace(replace, with);

    static string ConfigRefusal(string json)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("config.json"), json);
        var e = Assert.Throws<PldrException>(() => PldrConfig.Load(dir.File("config.json")));
        Assert.StartsWith(dir.File("config.json") + ": ", e.Message);
        return e.Message;
    }

    static void WriteSafeTensors(string path, string header, int dataBytes = 0, byte[]? data = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((long)json.Length));
        file.Write(json);
        file.Write(data ?? new byte[dataBytes]);
    }

    static string SafeTensorsRefusal(string header, int dataBytes = 0)
    {
        using var dir = new TempDirectory();
        WriteSafeTensors(dir.File("x.safetensors"), header, dataBytes);
        var e = Assert.Throws<PldrException>(() => SafeTensorsFile.Open(dir.File("x.safetensors")).Dispose());
        Assert.StartsWith(dir.File("x.safetensors") + ": ", e.Message);
        return e.Message;
    }

    // Class 1: an escaped lone surrogate is valid JSON that System.Text.Json cannot turn into a string.
    [Theory]
    [InlineData("\"model_type\": \"pldrllm\"", "\"model_type\": " + LoneSurrogate, "field 'model_type'")]
    [InlineData("\"vocab_size\": 256", "\"vocab_size\": " + LoneSurrogate, "field 'vocab_size'")]
    [InlineData("\"vocab_size\": 256", "\"vocab_size\": 256, " + LoneSurrogate + ": 1", "a key")]
    public void A_config_string_that_is_not_text_names_the_field(string replace, string with, string field)
    {
        string message = ConfigRefusal(Config(replace, with));
        Assert.Contains(field + " holds a string that is not text", message);
    }

    [Theory]
    [InlineData("{" + LoneSurrogate + ":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "a key holds")]
    [InlineData("{\"w\":{\"dtype\":" + LoneSurrogate + ",\"shape\":[1],\"data_offsets\":[0,4]}}", "field 'w.dtype' holds")]
    [InlineData("{\"__metadata__\":{\"k\":" + LoneSurrogate + "},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "field '__metadata__.k' holds")]
    public void A_safetensors_header_string_that_is_not_text_names_the_field(string header, string expected) =>
        Assert.Contains(expected, SafeTensorsRefusal(header, dataBytes: 4));

    [Fact]
    public void A_g_cache_header_string_that_is_not_text_is_refused()
    {
        using var dir = new TempDirectory();
        WriteSafeTensors(dir.File("g.safetensors"), "{\"layer0.G_LM\":{\"dtype\":\"F32\",\"shape\":[1,1,1],\"data_offsets\":[0,4]},\"__metadata__\":{\"format\":" + LoneSurrogate + "}}", 4);
        var e = Assert.Throws<PldrException>(() => GCache.Load(dir.File("g.safetensors")));
        Assert.Contains("field '__metadata__.format' holds a string that is not text", e.Message);
    }

    // Class 2: derived sizes in checked 64-bit arithmetic.
    [Fact]
    public void Heads_times_head_dim_past_int_is_refused_not_wrapped() =>
        Assert.Contains("hidden_size is missing and num_attention_heads × head_dim = 2147483648 is not a size",
            ConfigRefusal(Config("\"hidden_size\": 64,", "").Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 2").Replace("\"head_dim\": 16", "\"head_dim\": 1073741824")));

    [Fact]
    public void Hidden_times_eight_thirds_past_int_is_refused_not_wrapped() =>
        Assert.Contains("intermediate_size is missing and hidden_size × 8 / 3 = 2863311530 is not a size",
            ConfigRefusal(Config("\"intermediate_size\": 170,", "").Replace("\"hidden_size\": 64", "\"hidden_size\": 1073741824")));

    [Fact]
    public void A_number_beyond_double_is_refused() =>
        Assert.Contains("field 'layer_norm_eps' must be a finite number", ConfigRefusal(Config("\"layer_norm_eps\": 1e-06", "\"layer_norm_eps\": 1e400")));

    // The authors' hpdict goes through the same bounded reader and JSON checks as config.json.
    [Theory]
    [InlineData("\"num_layers\": 2", "\"num_layers\": " + LoneSurrogate, "field 'num_layers' holds a string that is not text")]
    [InlineData("\"num_layers\": 2", "\"num_layers\": -1", "hpdict key 'num_layers' must be a non-negative integer, found -1")]
    [InlineData("\"num_layers\": 2", "\"num_layers\": 1.5", "hpdict key 'num_layers' must be an integer, found 1.5")]
    [InlineData("\"num_layers\": 2,", "", "required hpdict key 'num_layers' is missing")]
    public void A_hostile_hpdict_is_refused_naming_the_key(string replace, string with, string expected)
    {
        using var dir = new TempDirectory();
        string json = File.ReadAllText(Path.Combine(Fixtures.Root, "pth", "tiny-v510.hparams.json"));
        Assert.Contains(replace, json);
        File.WriteAllText(dir.File("hpdict.json"), json.Replace(replace, with));
        var e = Assert.Throws<PldrException>(() => Runtime.Checkpoints.Torch.AuthorsHyperparameters.Load(dir.File("hpdict.json"), null));
        Assert.StartsWith(dir.File("hpdict.json") + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    // Found by the pth fuzz target: the zip's central directory is read on first use, after the open that was guarded.
    [Fact]
    public void A_pth_whose_zip_directory_miscounts_its_entries_is_refused()
    {
        using var dir = new TempDirectory();
        var bytes = File.ReadAllBytes(Path.Combine(Fixtures.Root, "pth", "odd-v510.pth"));
        int end = bytes.AsSpan().LastIndexOf("PK\u0005\u0006"u8); // end of central directory: entries on this disk at +8, in all at +10
        Assert.True(end > 0);
        BitConverter.GetBytes((ushort)(BitConverter.ToUInt16(bytes, end + 10) + 1)).CopyTo(bytes, end + 10);
        File.WriteAllBytes(dir.File("model.pth"), bytes);
        var e = Assert.Throws<PldrException>(() => Runtime.Checkpoints.Torch.TorchFile.Open(dir.File("model.pth")));
        Assert.StartsWith($"{dir.File("model.pth")}: not a readable zip file (", e.Message);
    }

    // Classes 6, 7, 10: pipes, devices and oversize files are refused before they are read.
    [Fact]
    public async Task A_pipe_as_config_tokenizer_or_checkpoint_is_refused_instead_of_blocking()
    {
        using var dir = new TempDirectory();
        foreach (var (name, what) in new[] { ("config.json", "config.json"), ("tokenizer.model", "tokenizer model"), ("model.pth", "PyTorch checkpoint or pickle") })
        {
            string fifo = dir.File(name);
            using (var mkfifo = Process.Start("mkfifo", fifo)) mkfifo.WaitForExit();
            var load = Task.Run(() => name switch
            {
                "config.json" => (object)PldrConfig.Load(fifo),
                "tokenizer.model" => PldrTokenizer.Load(fifo),
                _ => Runtime.Checkpoints.Torch.TorchFile.Open(fifo),
            });
            bool finished = await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(10))) == load || Release(fifo);
            Assert.True(finished, $"loading a FIFO as {name} blocked");
            var e = Assert.IsType<PldrException>(load.Exception?.InnerException);
            Assert.Equal($"{fifo}: is empty or not a regular file (a pipe or a device), expected a {what} file", e.Message);
        }

        static bool Release(string fifo)
        {
            File.WriteAllBytes(fifo, [0]); // the blocked reader's open returns, so the test does not leave it hanging
            return false;
        }
    }

    [Theory]
    [InlineData("config.json", "/dev/zero")]
    [InlineData("tokenizer.model", "/dev/urandom")]
    [InlineData("model.safetensors", "/dev/zero")]
    [InlineData("model.pth", "/dev/zero")]
    public void A_link_to_a_device_is_refused(string name, string device)
    {
        using var dir = new TempDirectory();
        string link = dir.File(name);
        File.CreateSymbolicLink(link, device);
        Action load = name switch
        {
            "config.json" => () => PldrConfig.Load(link),
            "tokenizer.model" => () => PldrTokenizer.Load(link),
            "model.safetensors" => () => SafeTensorsFile.Open(link).Dispose(),
            _ => () => Runtime.Checkpoints.Torch.TorchFile.Open(link).Dispose(),
        };
        var e = Assert.Throws<PldrException>(load);
        Assert.StartsWith($"{link}: is empty or not a regular file (a pipe or a device)", e.Message);
    }

    [Fact]
    public void An_oversize_sparse_config_is_refused_before_it_is_read()
    {
        using var dir = new TempDirectory();
        string path = dir.File("config.json");
        using (var file = File.Create(path)) file.SetLength(1L << 30);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<PldrException>(() => PldrConfig.Load(path));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
        Assert.Equal($"{path}: 1073741824 bytes, more than the 1048576 bytes a config.json file may have", e.Message);
    }

    // Class 8: a header under the byte limit may still hold millions of entries.
    [Fact]
    public void A_header_of_very_many_empty_tensors_is_refused_quickly()
    {
        var header = new StringBuilder("{");
        for (int i = 0; i < 200_000; i++) header.Append($"\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}},");
        header[^1] = '}';
        var clock = Stopwatch.StartNew();
        Assert.Contains("the header has 200000 tensors and metadata entries, more than the 65536 this reader takes", SafeTensorsRefusal(header.ToString()));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}"); // a sanity bound: tests run in parallel
    }

    [Fact]
    public void A_header_of_very_many_metadata_entries_is_refused()
    {
        var header = new StringBuilder("{\"__metadata__\":{");
        for (int i = 0; i < 1_000_000; i++) header.Append($"\"m{i}\":\"\",");
        header[^1] = '}';
        header.Append('}');
        Assert.Contains("the header has 1000001 tensors and metadata entries", SafeTensorsRefusal(header.ToString()));
    }

    // Class 12: integer tensors beyond int.
    [Fact]
    public void An_i64_value_past_int_is_refused_when_read_as_int32()
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");
        WriteSafeTensors(path, "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", data: BitConverter.GetBytes(1L << 31));
        using var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<PldrException>(() => file.ReadInt32("ids"));
        Assert.Equal($"{path}: tensor 'ids' holds 2147483648, which does not fit in 32 bits", e.Message);
    }
}
