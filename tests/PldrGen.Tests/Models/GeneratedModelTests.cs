using PldrGen.Models;
using PldrGen.Runtime;
using Xunit;

namespace PldrGen.Tests.Models;

/// <summary>The generated float32 CPU models against the authors' float32 fixtures, in every cache mode.</summary>
public class GeneratedModelTests
{
    public static TheoryData<string> Models => new(Fixtures.ModelNames);

    static IPldrModel Load(string name) =>
        PldrModelCatalog.All.Single(m => m.Config == Fixtures.Config(name) || Matches(m, name)).Load(Fixtures.ModelDir(name));

    static bool Matches(PldrModelInfo m, string name) => m.Config.FirstDifference(Fixtures.Config(name)) is null
        && m.Name == SpecClass(name);

    static string SpecClass(string name) => name switch
    {
        "tiny-v510" => nameof(TinyV510), "odd-v510" => nameof(OddV510), "tiny-v510G-identity" => nameof(TinyV510GIdentity),
        "tiny-v510G-external" => nameof(TinyV510GExternal), "tiny-v510-bf16" => nameof(TinyV510Bf16), _ => nameof(PldrTinyPydoc),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void PrefillLogits(string name)
    {
        using var reference = Fixtures.Reference(name);
        var model = PldrModelCatalog.All.Single(m => m.Name == SpecClass(name)).Load(Fixtures.ModelDir(name));
        var prompt = reference.ReadInt32("prompt");
        var expected = reference.ReadFloat32("prefill.logits");
        var logits = new float[prompt.Length * model.Info.Config.VocabSize];
        model.Prefill(prompt, logits);
        double max = 0;
        for (int i = 0; i < logits.Length; i++) max = Math.Max(max, Math.Abs(logits[i] - expected[i]));
        Assert.True(max < 1e-4, $"max abs error {max}"); Console.WriteLine($"{name}: {max:E2}");
    }
}
