using System.Security.Cryptography;
using System.Text;

namespace PldrGen.Runtime.Hub;

/// <summary>
/// Checks a downloaded file against the Hub's ETag: for files in Git LFS (weights, tokenizer) the ETag is the
/// content's sha256; for small files kept in git itself (config.json) it is git's blob id, the sha1 of
/// <c>"blob SIZE\0"</c> followed by the content.
/// </summary>
sealed class BlobChecksum : IDisposable
{
    readonly IncrementalHash hash;
    readonly string etag;
    readonly long size;

    BlobChecksum(HashAlgorithmName algorithm, string etag, long size)
    {
        hash = IncrementalHash.CreateHash(algorithm);
        this.etag = etag;
        this.size = size;
        Reset();
    }

    public string Algorithm => etag.Length == 64 ? "sha256" : "git blob sha1";

    /// <summary>A checksum for the ETag, or null when the ETag is neither a sha256 nor a git blob id.</summary>
    public static BlobChecksum? For(string etag, long size) => etag.Length switch
    {
        64 => new BlobChecksum(HashAlgorithmName.SHA256, etag, size),
        40 => new BlobChecksum(HashAlgorithmName.SHA1, etag, size),
        _ => null,
    };

    public void Reset()
    {
        hash.GetHashAndReset();
        if (etag.Length == 40) hash.AppendData(Encoding.ASCII.GetBytes($"blob {size}\0"));
    }

    public void Append(ReadOnlySpan<byte> bytes) => hash.AppendData(bytes);

    public bool Matches() => Convert.ToHexStringLower(hash.GetCurrentHash()) == etag;

    public void Dispose() => hash.Dispose();
}
