using PldrGen.Runtime.Checkpoints;
using Xunit;

namespace PldrGen.Tests;

/// <summary>Paths of the reference fixtures copied into the test output (tests/fixtures and models/).</summary>
public static class Fixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "fixtures");

    /// <summary>The fixture models of tests/fixtures/models plus the trained demo model.</summary>
    public static readonly string[] ModelNames = ["tiny-v510", "odd-v510", "tiny-v510G-identity", "tiny-v510G-external", "tiny-v510-bf16", "pldr-tiny-pydoc"];

    public static TheoryData<string> Models => new(ModelNames);

    /// <summary>The models whose reference.safetensors holds <paramref name="tensor"/> (e.g. "nocache.tokens").</summary>
    public static TheoryData<string> ModelsWith(string tensor)
    {
        var data = new TheoryData<string>();
        foreach (var name in ModelNames)
        {
            using var reference = Reference(name);
            if (reference.Contains(tensor)) data.Add(name);
        }
        return data;
    }

    public static string ModelDir(string name) =>
        name == "pldr-tiny-pydoc" ? Path.Combine(Root, name) : Path.Combine(Root, "models", name);

    public static SafeTensorsFile Reference(string name) => SafeTensorsFile.Open(Path.Combine(ModelDir(name), "reference.safetensors"));
    public static SafeTensorsFile Reference64(string name) => SafeTensorsFile.Open(Path.Combine(ModelDir(name), "reference64.safetensors"));
    public static PldrConfig Config(string name) => PldrConfig.Load(Path.Combine(ModelDir(name), "config.json"));

    public static string TokenizerCases => Path.Combine(Root, "tokenizer", "cases.json");
    public static string PaperTokenizer => Path.Combine(Root, "tokenizer", "pldr-refinedweb-32k.model");
    public static string PydocTokenizer => Path.Combine(Root, "pldr-tiny-pydoc", "tokenizer.model");
}
