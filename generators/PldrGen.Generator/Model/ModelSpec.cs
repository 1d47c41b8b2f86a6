namespace PldrGen.Generator.Model;

// Everything in Model/ flows through the incremental pipeline, so it must have value equality (records of strings,
// numbers and EquatableArray) and must never hold an ISymbol, a Compilation, a Location or a Diagnostic (a static
// DiagnosticDescriptor compares by value and may be held): an equal model lets Roslyn skip the emitter, and a
// comment-only edit of a spec leaves the output Unchanged.

/// <summary>One validated spec: the C# type to emit and the model's shape, named like config.json.</summary>
public sealed record ModelSpec(
    string SpecPath,
    string Namespace,
    string ClassName,
    int VocabSize,
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int HeadDim,
    int MaxPositionEmbeddings,
    double LayerNormEps,
    double RopeTheta,
    bool ReferenceRope,
    int NumReslayerA,
    int NumDenseA,
    int ADff,
    string? CustomGType,
    bool CacheFirstG,
    bool AttentionBias,
    bool GluBias,
    bool FinalBias,
    int EosTokenId)
{
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;
    public bool LearnedG => CustomGType is null;
}

/// <summary>What the registry needs from each spec: its type and the file it came from (first file wins on duplicates).</summary>
public sealed record SpecName(string FullName, string SpecPath);
