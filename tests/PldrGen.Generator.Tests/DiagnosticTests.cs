using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using static PldrGen.Generator.Tests.GeneratorHarness;
using static PldrGen.Generator.Tests.SmallSpecs;

namespace PldrGen.Generator.Tests;

/// <summary>One test per diagnostic: its id, severity, message and exact place in the YAML (0-based lines and columns).</summary>
public class DiagnosticTests
{
    [Fact]
    public void BaseSpecsAreValid()
    {
        Assert.Empty(Diagnose(LearnedG));
        Assert.Empty(Diagnose(CustomG));
    }

    [Fact]
    public void PLDR0001_YamlSyntaxError_AtTheOffendingToken()
    {
        string yaml = LearnedG.Replace("head_dim: 16", "head_dim: 16: 2");
        var d = Single(Diagnose(yaml), "PLDR0001");
        AssertAt(d, yaml, line: 4, start: 12, end: 12, ""); // just before the second ':'
        Assert.Equal("The spec is not valid YAML: While scanning a plain scalar value, found invalid mapping. Fix the syntax at this position.", Message(d));
    }

    [Fact]
    public void PLDR0002_UnknownKey_IsAWarningOnTheKeyAndTheModelIsStillGenerated()
    {
        string yaml = LearnedG + "\nrope_scaling: 2";
        var result = Run(new InMemoryAdditionalText(SpecPath("test.pldr.yaml"), yaml));
        var d = Single(result.Diagnostics, "PLDR0002");
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        AssertAt(d, yaml, line: 9, start: 0, end: 12, "rope_scaling");
        Assert.StartsWith("Unknown key 'rope_scaling' is ignored. Known keys: class_name, namespace, vocab_size,", Message(d));
        Assert.Contains(result.GeneratedSources, s => s.HintName == "PldrGen.Models.Tiny.g.cs");
    }

    [Fact]
    public void PLDR0003_MissingRequiredKey_AtTheFileStart()
    {
        string yaml = LearnedG.Replace("vocab_size: 256\n", "");
        var d = Single(Diagnose(yaml), "PLDR0003");
        AssertAt(d, yaml, line: 0, start: 0, end: 0, "");
        Assert.Equal("Required key 'vocab_size' is missing. Add 'vocab_size: 32000' to the spec.", Message(d));
    }

    [Fact]
    public void PLDR0004_WrongValueType_OnTheValue()
    {
        string yaml = LearnedG.Replace("num_hidden_layers: 2", "num_hidden_layers: two");
        var d = Single(Diagnose(yaml), "PLDR0004");
        AssertAt(d, yaml, line: 2, start: 19, end: 22, "two");
        Assert.Equal("'num_hidden_layers' must be a whole number, but the value is 'two'", Message(d));
    }

    [Fact]
    public void PLDR0004_ListWhereANumberBelongs_OnTheWholeList()
    {
        string yaml = LearnedG.Replace("head_dim: 16", "head_dim: [16, 16]");
        var d = Single(Diagnose(yaml), "PLDR0004");
        AssertAt(d, yaml, line: 4, start: 10, end: 18, "[16, 16]");
        Assert.Equal("'head_dim' must be a whole number, but the value is 'a list'", Message(d));
    }

    [Fact]
    public void PLDR0005_NonPositiveSize_OnTheValue()
    {
        string yaml = LearnedG.Replace("vocab_size: 256", "vocab_size: 0");
        var d = Single(Diagnose(yaml), "PLDR0005");
        AssertAt(d, yaml, line: 1, start: 12, end: 13, "0");
        Assert.Equal("'vocab_size' must be greater than zero, but it is 0", Message(d));
    }

    [Fact]
    public void PLDR0006_HiddenSizeIsNotHeadsTimesHeadDim_OnHiddenSize()
    {
        string yaml = LearnedG.Replace("vocab_size: 256", "vocab_size: 256\nhidden_size: 60");
        var d = Single(Diagnose(yaml), "PLDR0006");
        AssertAt(d, yaml, line: 2, start: 13, end: 15, "60");
        Assert.Equal("hidden_size is 60 but num_attention_heads × head_dim is 4 × 16 = 64. Change one of them, or drop hidden_size to derive it.", Message(d));
    }

    [Fact]
    public void PLDR0007_OddHeadDim_OnHeadDim()
    {
        string yaml = LearnedG.Replace("head_dim: 16", "head_dim: 15");
        var d = Single(Diagnose(yaml), "PLDR0007");
        AssertAt(d, yaml, line: 4, start: 10, end: 12, "15");
        Assert.Equal("head_dim is 15, but rotary position embedding rotates pairs of channels: use an even head_dim", Message(d));
    }

    [Fact]
    public void PLDR0008_UnknownCustomGType_OnTheValue()
    {
        string yaml = CustomG.Replace("custom_G_type: identity", "custom_G_type: learned");
        var d = Single(Diagnose(yaml), "PLDR0008");
        AssertAt(d, yaml, line: 6, start: 15, end: 22, "learned");
        Assert.Equal("custom_G_type 'learned' is not known. Use identity, random or external, or null for a learned G.", Message(d));
    }

    [Fact]
    public void PLDR0009_MetricLearnerSizeOnACustomGModel_OnTheValue()
    {
        string yaml = CustomG + "\nA_dff: 24";
        var d = Single(Diagnose(yaml), "PLDR0009");
        AssertAt(d, yaml, line: 7, start: 7, end: 9, "24");
        Assert.Equal("'A_dff' is 24, but a custom_G_type model has no metric learner: remove it or set it to 0", Message(d));
    }

    [Fact]
    public void PLDR0010_MetricLearnerSizeMissingOnALearnedGModel_AtTheFileStart()
    {
        string yaml = LearnedG.Replace("\nA_dff: 24", "");
        var d = Single(Diagnose(yaml), "PLDR0010");
        AssertAt(d, yaml, line: 0, start: 0, end: 0, "");
        Assert.Equal("A learned-G model (custom_G_type null) needs 'A_dff': add 'A_dff: <size>' to the spec", Message(d));
    }

    [Fact]
    public void PLDR0011_TwoSpecsWithOneClassName_OnTheSecondSpecsClassName()
    {
        var result = Run(new InMemoryAdditionalText(SpecPath("a.pldr.yaml"), LearnedG), new InMemoryAdditionalText(SpecPath("b.pldr.yaml"), LearnedG));
        var d = Single(result.Diagnostics, "PLDR0011");
        Assert.Equal(SpecPath("b.pldr.yaml"), d.Location.GetLineSpan().Path);
        AssertAt(d, LearnedG, line: 0, start: 12, end: 16, "Tiny");
        Assert.Equal("Type 'PldrGen.Models.Tiny' is also defined by spec '/project/specs/a.pldr.yaml'. Give each spec its own class_name or namespace.", Message(d));
        // The first spec still generates, once.
        Assert.Equal(["PldrGen.Models.Tiny.g.cs", "PldrGenModels.g.cs"], result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PLDR0012_InvalidIdentifier_OnTheValue()
    {
        string yaml = LearnedG.Replace("class_name: Tiny", "class_name: 2Tiny");
        var d = Single(Diagnose(yaml), "PLDR0012");
        AssertAt(d, yaml, line: 0, start: 12, end: 17, "2Tiny");
        Assert.Equal("'class_name' value '2Tiny' is not a valid C# type name", Message(d));
    }

    [Fact]
    public void PLDR0013_DuplicateKey_OnTheSecondKey()
    {
        string yaml = LearnedG + "\nhead_dim: 16";
        var d = Single(Diagnose(yaml), "PLDR0013");
        AssertAt(d, yaml, line: 9, start: 0, end: 8, "head_dim");
        Assert.Equal("Key 'head_dim' is given twice; keep one", Message(d));
    }

    [Fact]
    public void PLDR0014_NonMappingDocument_OnTheDocument()
    {
        const string yaml = "- class_name: Tiny\n- vocab_size: 256";
        var d = Single(Diagnose(yaml), "PLDR0014");
        AssertAt(d, yaml, line: 0, start: 0, end: 0, "");
        Assert.Equal("A spec is a YAML mapping of 'key: value' lines (see specs/README.md); found a list", Message(d));
    }

    [Fact]
    public void PLDR0014_AliasAsKey_OnTheAlias()
    {
        string yaml = LearnedG.Replace("class_name: Tiny", "class_name: &name Tiny") + "\n*name : 3";
        var d = Single(Diagnose(yaml), "PLDR0014");
        AssertAt(d, yaml, line: 9, start: 0, end: 5, "*name");
        Assert.Equal("A spec is a YAML mapping of 'key: value' lines (see specs/README.md); found a key that is not a plain name", Message(d));
    }

    [Fact]
    public void PLDR0014_SecondDocument_OnItsMarker()
    {
        string yaml = LearnedG + "\n---\nclass_name: Other";
        var d = Single(Diagnose(yaml), "PLDR0014");
        AssertAt(d, yaml, line: 9, start: 0, end: 3, "---");
        Assert.Equal("A spec is a YAML mapping of 'key: value' lines (see specs/README.md); found a second document", Message(d));
    }

    [Fact]
    public void PLDR0014_EmptyDocument()
    {
        const string yaml = "---\n";
        var d = Single(Diagnose(yaml), "PLDR0014");
        AssertAt(d, yaml, line: 1, start: 0, end: 0, "");
        Assert.Equal("A spec is a YAML mapping of 'key: value' lines (see specs/README.md); found an empty document", Message(d));
    }

    [Fact]
    public void PLDR0015_TensorTooLarge_OnTheKeyToReduce()
    {
        string yaml = LearnedG.Replace("vocab_size: 256", "vocab_size: 2000000000");
        var d = Single(Diagnose(yaml), "PLDR0015");
        AssertAt(d, yaml, line: 1, start: 12, end: 22, "2000000000");
        Assert.Equal("Tensor decoder.embedding.weight would have 128000000000 elements, more than one array can hold (2147483591); reduce 'vocab_size'", Message(d));
    }

    [Fact]
    public void PLDR0016_EosTokenIdOutOfRange_OnTheValue()
    {
        string yaml = LearnedG + "\neos_token_id: 256";
        var d = Single(Diagnose(yaml), "PLDR0016");
        AssertAt(d, yaml, line: 9, start: 14, end: 17, "256");
        Assert.Equal("'eos_token_id' is 256 but must be a token id below vocab_size (256)", Message(d));
    }

    [Theory]
    [InlineData("vocab_size: 256", "vocab_size: 99999999999", 1, 12, 23, "'vocab_size' is 99999999999 but must be at most 2147483647")]
    [InlineData("vocab_size: 256", "vocab_size: 99999999999999999999", 1, 12, 32, "'vocab_size' is 99999999999999999999 but must be at most 2147483647")]
    [InlineData("num_hidden_layers: 2", "num_hidden_layers: -99999999999", 2, 19, 31, "'num_hidden_layers' is -99999999999 but must be at least -2147483648")]
    [InlineData("A_dff: 24", "A_dff: 24\nrope_theta: 1e400", 9, 12, 17, "'rope_theta' is 1e400 but must be a finite number")]
    public void PLDR0016_NumberPastItsType_OnTheValue(string line, string replacement, int lineNumber, int start, int end, string message)
    {
        string yaml = LearnedG.Replace(line, replacement);
        var d = Single(Diagnose(yaml), "PLDR0016");
        AssertAt(d, yaml, lineNumber, start, end, replacement.Split(' ')[^1]);
        Assert.Equal(message, Message(d));
    }

    [Fact]
    public void PLDR0016_DerivedHiddenSizePastInt32_OnHeadDim()
    {
        string yaml = CustomG.Replace("num_attention_heads: 4", "num_attention_heads: 2147483647").Replace("head_dim: 16", "head_dim: 2147483646");
        var d = Single(Diagnose(yaml), "PLDR0016");
        AssertAt(d, yaml, line: 4, start: 10, end: 20, "2147483646");
        Assert.Equal("'num_attention_heads × head_dim' is 4611686011984936962 but must be at most 2147483647, the largest hidden_size", Message(d));
    }

    [Fact]
    public void PLDR0016_DerivedIntermediateSizePastInt32_OnHeadDim()
    {
        // Every tensor fits one array, but hidden_size · 8/3 does not fit an int.
        const string yaml = """
            class_name: Wide
            vocab_size: 2
            eos_token_id: 1
            num_hidden_layers: 1
            num_attention_heads: 500000000
            head_dim: 2
            max_position_embeddings: 1
            custom_G_type: identity
            """;
        var d = Single(Diagnose(yaml), "PLDR0016");
        AssertAt(d, yaml, line: 5, start: 10, end: 11, "2");
        Assert.Equal("'intermediate_size (hidden_size · 8/3)' is 2666666666 but must be at most 2147483647: give intermediate_size, or reduce hidden_size", Message(d));
    }

    [Theory]
    [InlineData("Load", "a member of the model class")]
    [InlineData("Heads", "a member of the model class")]
    [InlineData("Prefill", "a member of the model class")]
    [InlineData("GCache", "a type the model uses")]
    [InlineData("PldrConfig", "a type the model uses")]
    [InlineData("ArrayView", "a type the model uses")]
    public void PLDR0017_ClassNameTakenByTheGeneratedCode_OnTheClassName(string className, string what)
    {
        string yaml = LearnedG.Replace("class_name: Tiny", "class_name: " + className);
        var d = Single(Diagnose(yaml), "PLDR0017");
        AssertAt(d, yaml, line: 0, start: 12, end: 12 + className.Length, className);
        Assert.Equal($"class_name '{className}' is also {what} in the generated code, which would then not compile; choose another class_name", Message(d));
    }

    [Fact]
    public void PLDR0018_NamespaceSegmentHidesARuntimeType_OnTheNamespace()
    {
        string yaml = LearnedG + "\nnamespace: MyApp.CpuKernels.Models";
        var d = Single(Diagnose(yaml), "PLDR0018");
        AssertAt(d, yaml, line: 9, start: 11, end: 34, "MyApp.CpuKernels.Models");
        Assert.Equal("namespace segment 'CpuKernels' would hide the type CpuKernels that the generated code uses; choose another namespace", Message(d));
    }

    [Fact]
    public void PLDR0019_ClassNameOfAnotherSpecsIlgpuModel_OnItsClassName()
    {
        string twin = LearnedG.Replace("class_name: Tiny", "class_name: TinyIlgpu");
        var result = Run([new InMemoryAdditionalText(SpecPath("a.pldr.yaml"), LearnedG), new InMemoryAdditionalText(SpecPath("b.pldr.yaml"), twin)],
            out _, withIlgpu: true);
        var d = Single(result.Diagnostics, "PLDR0019");
        Assert.Equal(SpecPath("b.pldr.yaml"), d.Location.GetLineSpan().Path);
        AssertAt(d, twin, line: 0, start: 12, end: 21, "TinyIlgpu");
        Assert.Equal("Type 'PldrGen.Models.TinyIlgpu' is the ILGPU model that spec '/project/specs/a.pldr.yaml' generates for its class; choose another class_name", Message(d));
        // The first spec generates both its models; the second none, and the registry lists only the first.
        Assert.Equal(["PldrGen.Models.Tiny.g.cs", "PldrGen.Models.TinyIlgpu.g.cs", "PldrGenModels.g.cs"],
            result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("TinyIlgpu.ModelInfo", GeneratedText(result, "PldrGenModels.g.cs"));
    }

    static Diagnostic Single(ImmutableArray<Diagnostic> diagnostics, string id)
    {
        var d = Assert.Single(diagnostics);
        Assert.Equal(id, d.Id);
        return d;
    }

    /// <summary>The diagnostic's line and columns, and the text they cover (what an editor underlines).</summary>
    static void AssertAt(Diagnostic d, string yaml, int line, int start, int end, string underlined)
    {
        var span = d.Location.GetLineSpan();
        Assert.Equal((line, start, line, end),
            (span.StartLinePosition.Line, span.StartLinePosition.Character, span.EndLinePosition.Line, span.EndLinePosition.Character));
        Assert.Equal(underlined, yaml.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
    }

    static string Message(Diagnostic d) => d.GetMessage(CultureInfo.InvariantCulture);
}
