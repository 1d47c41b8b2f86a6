namespace PldrGen.Runtime.Hub;

/// <summary>
/// The Hub's own cache layout, shared with its Python clients: <c>models--OWNER--NAME/blobs/ETAG</c> holds each
/// file once, <c>snapshots/COMMIT/FILE</c> links to the blob, <c>refs/REVISION</c> holds the commit a branch or tag
/// named when it was last pulled.
/// </summary>
public sealed class HubCache(string root)
{
    /// <summary>The files a snapshot needs before a model can run from it.</summary>
    public static readonly string[] RequiredFiles = ["config.json", "model.safetensors"];

    public string Root { get; } = root;

    public string RepoFolder(HubModelId id) => Path.Combine(Root, id.CacheFolderName);

    public string SnapshotFolder(HubModelId id, string commit) => Path.Combine(RepoFolder(id), "snapshots", commit);

    internal string BlobPath(HubModelId id, string etag) => Path.Combine(RepoFolder(id), "blobs", etag);

    string RefFile(HubModelId id) => Path.Combine(RepoFolder(id), "refs", id.Revision);

    /// <summary>The cached snapshot folder of the revision, or null when it is not (completely) in the cache.</summary>
    public string? FindSnapshot(HubModelId id)
    {
        string? commit = id.RevisionIsCommit ? id.Revision : File.Exists(RefFile(id)) ? File.ReadAllText(RefFile(id)).Trim() : null;
        if (commit is null || commit.Length == 0 || commit.Contains('/') || commit.Contains('\\') || commit.Contains("..")) return null;
        string folder = SnapshotFolder(id, commit);
        return RequiredFiles.All(file => File.Exists(Path.Combine(folder, file))) ? folder : null;
    }

    /// <summary>The cached snapshot folder of the revision; refuses in one line when it has not been pulled.</summary>
    public string Resolve(HubModelId id) => FindSnapshot(id) ?? throw new PldrException(
        $"{id} is not in the Hugging Face cache ({RepoFolder(id)}); run 'pldr pull {id}' first");

    /// <summary>Points snapshots/COMMIT/FILE at its blob: a relative symbolic link, or a copy where links are not allowed.</summary>
    internal void Link(HubModelId id, string commit, string file, string etag)
    {
        string link = Path.Combine(SnapshotFolder(id, commit), file);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        if (new FileInfo(link) is { Exists: true } or { LinkTarget: not null }) File.Delete(link); // a dangling link too
        try
        {
            File.CreateSymbolicLink(link, Path.Combine("..", "..", "blobs", etag));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Copy(BlobPath(id, etag), link); // Windows without developer mode: the Hub's clients copy too
        }
    }

    internal void WriteRef(HubModelId id, string commit)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(RefFile(id))!);
        File.WriteAllText(RefFile(id), commit);
    }
}
