using System.Text.Json.Nodes;
using PldrGen.Models;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using Xunit;

namespace PldrGen.Tests.Models;

/// <summary>What the shape contract does not allow is refused with a message that names it.</summary>
public sealed class RefusalTests
{
    [Fact]
    public void Decoding_past_the_context_is_refused()
    {
        var model = CompiledModels.Load("tiny-v510");
        model.Prefill(Enumerable.Repeat(5, TinyV510.MaxPositions - 1).ToArray());
        model.Decode(7); // fills the last position
        var e = Assert.Throws<PldrException>(() => model.Decode(7));
        Assert.Equal("position 64 is past the context of TinyV510 (64 positions, max_position_embeddings)", e.Message);
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_refused()
    {
        var model = CompiledModels.Load("tiny-v510");
        var e = Assert.Throws<PldrException>(() => model.Prefill(new int[TinyV510.MaxPositions + 1]));
        Assert.Contains("the prompt has 65 tokens, more than the 64 positions of TinyV510", e.Message);
    }

    [Fact]
    public void Token_ids_outside_the_vocabulary_are_refused()
    {
        var model = CompiledModels.Load("tiny-v510");
        Assert.Equal("token id 256 is outside the vocabulary of TinyV510 (0..255)", Assert.Throws<PldrException>(() => model.Prefill([1, 256])).Message);
        model.Prefill([1, 2]);
        Assert.Contains("token id -1 is outside", Assert.Throws<PldrException>(() => model.Decode(-1)).Message);
    }

    [Fact]
    public void Decode_before_prefill_is_refused() =>
        Assert.Throws<InvalidOperationException>(() => CompiledModels.Load("tiny-v510").Decode(1));

    [Fact]
    public void A_checkpoint_of_another_shape_names_the_first_differing_config_field()
    {
        var e = Assert.Throws<PldrException>(() => OddV510.Load(Fixtures.ModelDir("tiny-v510")));
        Assert.EndsWith("config.json: does not match the compiled spec OddV510: vocab_size: the compiled spec has 97, the checkpoint has 256", e.Message);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_is_named_with_both_shapes()
    {
        using var dir = new TempDirectory().WithModel("tiny-v510");
        RewriteTensor(dir.File("model.safetensors"), "decoder.dec_layers.1.mha1.wq.weight", newShape: [32, 128]);
        var e = Assert.Throws<PldrException>(() => TinyV510.Load(dir.Path));
        Assert.EndsWith("tensor 'decoder.dec_layers.1.mha1.wq.weight' has shape [32, 128], TinyV510 expects [64, 64]", e.Message);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        using var dir = new TempDirectory().WithModel("tiny-v510");
        RewriteTensor(dir.File("model.safetensors"), "final_layer.bias", rename: "final_layer.b");
        var e = Assert.Throws<PldrException>(() => TinyV510.Load(dir.Path));
        Assert.EndsWith("tensor 'final_layer.bias' [256] required by TinyV510 is missing", e.Message);
    }

    [Fact]
    public void An_unexpected_tensor_is_named()
    {
        using var dir = new TempDirectory().WithModel("tiny-v510");
        RewriteTensor(dir.File("model.safetensors"), "final_layer.bias", addEmpty: "final_layer.extra");
        var e = Assert.Throws<PldrException>(() => TinyV510.Load(dir.Path));
        Assert.EndsWith("unexpected tensor 'final_layer.extra': this checkpoint is not the shape of TinyV510", e.Message);
    }

    [Fact]
    public void A_learned_g_checkpoint_under_a_custom_g_spec_is_refused()
    {
        using var dir = new TempDirectory().WithModel("tiny-v510G-identity");
        File.Copy(Path.Combine(Fixtures.ModelDir("tiny-v510"), "model.safetensors"), dir.File("model.safetensors"), overwrite: true);
        var e = Assert.Throws<PldrException>(() => TinyV510GIdentity.Load(dir.Path));
        Assert.EndsWith("tensor 'decoder.past_G_values' [2, 3, 1, 4, 16, 16] required by TinyV510GIdentity is missing", e.Message);
    }

    [Fact]
    public void A_truncated_checkpoint_is_refused()
    {
        using var dir = new TempDirectory().WithModel("tiny-v510");
        string path = dir.File("model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<PldrException>(() => TinyV510.Load(dir.Path));
        Assert.Contains("lie outside the", e.Message);
    }

    [Fact]
    public void A_missing_config_is_named()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<PldrException>(() => TinyV510.Load(dir.Path));
        Assert.EndsWith("config.json: file not found", e.Message);
    }

    [Fact]
    public void A_g_cache_of_another_shape_is_refused()
    {
        var model = CompiledModels.Load("tiny-v510");
        var e = Assert.Throws<PldrException>(() => model.InjectGCache(new GCache(3, 3, 12)));
        Assert.Equal("TinyV510: G-cache of shape [3 layers, 3 heads, 12×12] does not fit this model, which needs [2 layers, 4 heads, 16×16]", e.Message);
    }

    /// <summary>Rewrites one header entry of a safetensors file (shape or name) or adds an empty tensor, keeping the data.</summary>
    static void RewriteTensor(string path, string name, int[]? newShape = null, string? rename = null, string? addEmpty = null)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        var header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))!.AsObject();
        var entry = header[name]!.AsObject();
        if (newShape is not null) entry["shape"] = new JsonArray(newShape.Select(d => (JsonNode)d).ToArray());
        if (addEmpty is not null) // an empty tensor at the end of the data: valid safetensors, but not in the manifest
        {
            long dataLength = bytes.Length - 8 - headerLength;
            header[addEmpty] = JsonNode.Parse($$"""{"dtype":"F32","shape":[0],"data_offsets":[{{dataLength}},{{dataLength}}]}""");
        }
        if (rename is not null)
        {
            header.Remove(name);
            header[rename] = entry;
        }
        var json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((long)json.Length));
        file.Write(json);
        file.Write(bytes.AsSpan(8 + (int)headerLength));
    }
}

/// <summary>The compiled paper specs know the released checkpoints' exact tensor set.</summary>
public sealed class PaperSpecTests
{
    [Fact]
    public void The_110M_spec_expects_690_tensors_and_109689362_parameters_as_the_paper_reports()
    {
        var manifest = PldrV51_110M.TensorManifest;
        Assert.Equal(690, manifest.Count);
        Assert.Equal(109_689_362L, manifest.Sum(t => t.Shape.Aggregate(1L, (n, d) => n * d)));
    }

    [Fact]
    public void The_106M_custom_g_spec_drops_the_metric_learner_and_reads_past_g_values()
    {
        var names = PldrV51G_106M.TensorManifest.Select(t => t.Name).ToHashSet();
        Assert.Contains("decoder.past_G_values", names);
        Assert.DoesNotContain(names, n => n.Contains("reslayerAs") || n.Contains("plgatt_layer"));
        Assert.Equal(new[] { 5, 3, 1, 14, 64, 64 }, PldrV51G_106M.TensorManifest.Single(t => t.Name == "decoder.past_G_values").Shape);
    }
}

/// <summary>The paper's published G_LM of PLDR-LLM-v51-110M-1 (tests/fixtures/g-lm) as a G-cache for the 110M spec.</summary>
public sealed class PublishedGLmTests
{
    static string PublishedGLm => Path.Combine(Fixtures.Root, "g-lm", "pldr-v51-110m-1.safetensors");

    [Fact]
    public void The_published_g_lm_loads_as_a_g_cache_of_the_110M_shape()
    {
        var cache = GCache.Load(PublishedGLm);
        cache.EnsureShape(PldrV51_110M.Layers, PldrV51_110M.Heads, PldrV51_110M.HeadDim, nameof(PldrV51_110M));
        using var file = SafeTensorsFile.Open(PublishedGLm);
        Assert.Equal(file.ReadFloat32("G_LM"), cache.G);
        Assert.True(cache.A.All(v => v == 0), "the published file holds G_LM only");
    }

    [Fact]
    public void The_published_g_lm_does_not_fit_a_smaller_model()
    {
        var model = CompiledModels.Load("tiny-v510");
        var e = Assert.Throws<PldrException>(() => model.InjectGCache(GCache.Load(PublishedGLm)));
        Assert.Contains("G-cache of shape [5 layers, 14 heads, 64×64] does not fit this model", e.Message);
    }
}
