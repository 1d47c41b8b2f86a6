using System.Globalization;
using System.Text;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>Writes a <c>*.pldr.yaml</c> spec for a config.json, so a downloaded checkpoint can be compiled.</summary>
public static class SpecWriter
{
    public static string FromConfig(PldrConfig c, string className, string ns, string source)
    {
        var yaml = new StringBuilder();
        yaml.AppendLine($"# Written by `pldr spec --from-config {source}`. Add it to a C# project as an AdditionalFile.");
        yaml.AppendLine($"{SpecKeys.ClassName}: {className}");
        yaml.AppendLine($"{SpecKeys.Namespace}: {ns}");
        yaml.AppendLine();
        foreach (var (name, value) in c.Fields())
        {
            bool metricLearner = name is SpecKeys.NumReslayerA or SpecKeys.NumDenseA or SpecKeys.ADff;
            if (metricLearner && !c.LearnedG) continue; // a custom-G model has no metric learner
            yaml.AppendLine($"{name}: {value}");
        }
        return yaml.ToString();
    }

    /// <summary>A C# type name from a folder name: "PLDR-LLM-v51-110M-1" → "PldrLlmV51110M1".</summary>
    public static string ClassNameFor(string folderName)
    {
        var name = new StringBuilder();
        foreach (var part in folderName.Split(folderName.Where(c => !char.IsLetterOrDigit(c)).Distinct().ToArray(), StringSplitOptions.RemoveEmptyEntries))
        {
            name.Append(char.ToUpperInvariant(part[0]));
            name.Append(part.Length > 1 && part.All(char.IsUpper) ? part[1..].ToLowerInvariant() : part[1..]);
        }
        if (name.Length == 0 || char.IsDigit(name[0])) name.Insert(0, "Pldr");
        return name.ToString();
    }
}
