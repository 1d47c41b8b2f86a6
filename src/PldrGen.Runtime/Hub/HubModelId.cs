using System.Text.RegularExpressions;

namespace PldrGen.Runtime.Hub;

/// <summary>A Hugging Face model repository and revision, written <c>OWNER/NAME[@REVISION]</c> (revision default main).</summary>
public sealed partial record HubModelId(string Owner, string Name, string Revision)
{
    public const string DefaultRevision = "main";

    public string Repo => $"{Owner}/{Name}";

    /// <summary>The cache folder name the Hub's own clients use: <c>models--OWNER--NAME</c>.</summary>
    public string CacheFolderName => $"models--{Owner}--{Name}";

    /// <summary>True when the revision is a full commit hash (then no ref names it).</summary>
    public bool RevisionIsCommit => IsCommitHash(Revision);

    public static bool IsCommitHash(string text) => CommitHash().IsMatch(text);

    public override string ToString() => Revision == DefaultRevision ? Repo : $"{Repo}@{Revision}";

    /// <summary>Reads <c>OWNER/NAME[@REVISION]</c>, or returns null when <paramref name="text"/> is not of that form.</summary>
    public static HubModelId? TryParse(string text)
    {
        var match = Syntax().Match(text);
        if (!match.Success || text.Contains("..") || text.Contains("--")) return null;
        string revision = match.Groups["revision"].Success ? match.Groups["revision"].Value : DefaultRevision;
        return new HubModelId(match.Groups["owner"].Value, match.Groups["name"].Value, revision);
    }

    public static HubModelId Parse(string text) => TryParse(text) ?? throw new PldrException(
        $"'{text}' is not a Hugging Face model name: write OWNER/NAME or OWNER/NAME@REVISION (letters, digits, '-', '_', '.')");

    // Owner and name as the Hub allows them; a revision is a branch, tag or commit, and may hold '/' (refs/pr/1).
    [GeneratedRegex(@"^(?<owner>[A-Za-z0-9][A-Za-z0-9_.-]*)/(?<name>[A-Za-z0-9][A-Za-z0-9_.-]*)(@(?<revision>[A-Za-z0-9][A-Za-z0-9_./-]*))?$")]
    private static partial Regex Syntax();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();
}
