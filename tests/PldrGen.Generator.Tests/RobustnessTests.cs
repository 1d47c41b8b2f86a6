using Microsoft.CodeAnalysis;
using static PldrGen.Generator.Tests.GeneratorHarness;

namespace PldrGen.Generator.Tests;

/// <summary>Whatever a spec file holds, the generator reports diagnostics inside that file and never throws.</summary>
public class RobustnessTests
{
    public static TheoryData<string, string?> Garbage => new()
    {
        { "unreadable file", null },
        { "empty file", "" },
        { "only a comment", "# nothing here\n" },
        { "only a document marker", "---\n" },
        { "binary", "\0\u0001\u0002\uFFFD\uFFFE\u001b[0m\u0007PK\u0003\u0004" },
        { "byte order mark", "\uFEFFclass_name: Tiny" },
        { "tabs", "class_name:\tTiny\n\tvocab_size: 256\n" },
        { "huge numbers", "class_name: Tiny\nvocab_size: 99999999999999999999999999\nnum_hidden_layers: -99999999999\nnum_attention_heads: 1e400\nhead_dim: 0x7FFFFFFF\nmax_position_embeddings: 2147483647\nrope_theta: 1e400\nlayer_norm_eps: -0.0\ncustom_G_type: identity\n" },
        { "shapes at the limit", "class_name: Tiny\nvocab_size: 2147483647\nnum_hidden_layers: 2147483647\nnum_attention_heads: 2147483647\nhead_dim: 2147483646\nmax_position_embeddings: 2147483647\ncustom_G_type: identity\n" },
        { "a list", "- 1\n- 2\n" },
        { "a scalar", "hello" },
        { "anchors and aliases", "class_name: &name Tiny\nnamespace: *name\nvocab_size: &v 256\nhead_dim: *v\n*v : 3\n" },
        { "merge key", "base: &b {vocab_size: 256}\n<<: *b\nclass_name: Tiny\n" },
        { "undefined alias", "class_name: *nowhere\n" },
        { "nested mapping", "class_name:\n  inner: Tiny\n" },
        { "complex key", "? [a, b]\n: 1\n" },
        { "deep nesting", new string('[', 5000) + new string(']', 5000) },
        { "unterminated quote", "class_name: \"Tiny\n" },
        { "two documents", "class_name: Tiny\n---\nclass_name: Other\n" },
        { "tags", "class_name: !!binary aGVsbG8=\nvocab_size: !custom 256\n" },
        { "carriage returns only", "class_name: Tiny\rvocab_size: 256\r" },
        { "very long line", "class_name: " + new string('A', 100_000) },
        { "keyword class name", "class_name: class\nnamespace: My..App\n" },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public void NeverThrowsAndReportsInsideTheFile(string name, string? yaml)
    {
        // Run itself fails on an escaped exception, on CS8785 and on PLDR0099 (an exception the generator caught).
        var result = Run(new InMemoryAdditionalText(SpecPath("garbage.pldr.yaml"), yaml));
        foreach (var d in result.Diagnostics)
        {
            Assert.True(d.Location.Kind == LocationKind.ExternalFile, $"{name}: {d} has no place in the spec");
            Assert.Equal(SpecPath("garbage.pldr.yaml"), d.Location.GetLineSpan().Path);
            Assert.InRange(d.Location.SourceSpan.End, 0, yaml?.Length ?? 0);
        }
    }
}
