using Microsoft.CodeAnalysis;

namespace PldrGen.Generator.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. Ids are stable: never renumber, add new ones at the end and list them in
/// AnalyzerReleases.Unshipped.md. Messages say what is wrong and what to do.
/// </summary>
public static class DiagnosticDescriptors
{
    const string Category = "PldrGen";

    static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor YamlSyntax = Error("PLDR0001", "Invalid YAML",
        "The spec is not valid YAML: {0}. Fix the syntax at this position.");

    public static readonly DiagnosticDescriptor UnknownKey = new("PLDR0002", "Unknown spec key",
        "Unknown key '{0}' is ignored. Known keys: {1}.", Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MissingKey = Error("PLDR0003", "Missing spec key",
        "Required key '{0}' is missing. Add '{0}: {1}' to the spec.");

    public static readonly DiagnosticDescriptor WrongType = Error("PLDR0004", "Wrong value type",
        "'{0}' must be {1}, but the value is '{2}'");

    public static readonly DiagnosticDescriptor NonPositive = Error("PLDR0005", "Size must be positive",
        "'{0}' must be greater than zero, but it is {1}");

    public static readonly DiagnosticDescriptor HiddenSizeMismatch = Error("PLDR0006", "hidden_size is not heads × head_dim",
        "hidden_size is {0} but num_attention_heads × head_dim is {1} × {2} = {3}. Change one of them, or drop hidden_size to derive it.");

    public static readonly DiagnosticDescriptor OddHeadDim = Error("PLDR0007", "head_dim must be even",
        "head_dim is {0}, but rotary position embedding rotates pairs of channels: use an even head_dim");

    public static readonly DiagnosticDescriptor UnknownCustomG = Error("PLDR0008", "Unknown custom_G_type",
        "custom_G_type '{0}' is not known. Use identity, random or external, or null for a learned G.");

    public static readonly DiagnosticDescriptor MetricLearnerOnCustomG = Error("PLDR0009", "Metric-learner size on a custom-G model",
        "'{0}' is {1}, but a custom_G_type model has no metric learner: remove it or set it to 0");

    public static readonly DiagnosticDescriptor MetricLearnerMissing = Error("PLDR0010", "Metric-learner size missing",
        "A learned-G model (custom_G_type null) needs '{0}': add '{0}: <size>' to the spec");

    public static readonly DiagnosticDescriptor DuplicateClass = Error("PLDR0011", "Two specs define the same type",
        "Type '{0}' is also defined by spec '{1}'. Give each spec its own class_name or namespace.");

    public static readonly DiagnosticDescriptor InvalidIdentifier = Error("PLDR0012", "Not a C# name",
        "'{0}' value '{1}' is not a valid C# {2}");

    public static readonly DiagnosticDescriptor DuplicateKey = Error("PLDR0013", "Key given twice",
        "Key '{0}' is given twice; keep one");

    public static readonly DiagnosticDescriptor NotAMapping = Error("PLDR0014", "Spec is not a mapping",
        "A spec is a YAML mapping of 'key: value' lines (see specs/README.md); found {0}");

    public static readonly DiagnosticDescriptor TooLarge = Error("PLDR0015", "Tensor too large",
        "Tensor {0} would have {1} elements, more than one array can hold ({2}); reduce '{3}'");

    public static readonly DiagnosticDescriptor OutOfRange = Error("PLDR0016", "Value out of range",
        "'{0}' is {1} but must be {2}");

    public static readonly DiagnosticDescriptor ClassNameTaken = Error("PLDR0017", "class_name taken by the generated code",
        "class_name '{0}' is also {1} in the generated code, which would then not compile; choose another class_name");

    public static readonly DiagnosticDescriptor NamespaceSegmentTaken = Error("PLDR0018", "Namespace segment hides a type",
        "namespace segment '{0}' would hide the type {0} that the generated code uses; choose another namespace");

    public static readonly DiagnosticDescriptor IlgpuModelName = Error("PLDR0019", "class_name is another spec's ILGPU model",
        "Type '{0}' is the ILGPU model that spec '{1}' generates for its class; choose another class_name");

    public static readonly DiagnosticDescriptor InternalError = Error("PLDR0099", "PldrGen failed",
        "PldrGen could not process this spec ({0}). This is a bug in PldrGen; please report it with the spec.");
}
