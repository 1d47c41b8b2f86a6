namespace PldrGen.Runtime;

/// <summary>
/// Reads the files users download from strangers (configs, tokenizers, checkpoint headers) within a stated size.
/// Links are followed to the file they name; a folder, a pipe or a device (which report no size, and may block or
/// never end) and anything over the limit are refused before a byte is read or allocated.
/// </summary>
public static class InputFile
{
    /// <summary>
    /// The length of the regular file at <paramref name="path"/>, at least 1 and at most <paramref name="maxBytes"/>;
    /// <paramref name="what"/> names the kind of file for the message ("config.json", "tokenizer model").
    /// </summary>
    /// <exception cref="PldrException">The file is missing, not a regular file with content, or too large.</exception>
    public static long Length(string path, long maxBytes, string what)
    {
        if (Directory.Exists(path)) throw new PldrException($"{path}: is a folder, expected a {what} file");
        if (!File.Exists(path)) throw new PldrException($"{path}: file not found");
        FileSystemInfo target;
        try
        {
            // A link's own length is the length of the path it holds: measure what it points at.
            target = File.ResolveLinkTarget(path, returnFinalTarget: true) ?? new FileInfo(path);
        }
        catch (IOException e) { throw new PldrException($"{path}: cannot follow the link ({e.Message})", e); }
        catch (UnauthorizedAccessException e) { throw new PldrException($"{path}: cannot read ({e.Message})", e); }
        if (target is not FileInfo { Exists: true } file) throw new PldrException($"{path}: file not found");
        if (file.Length == 0) throw new PldrException($"{path}: is empty or not a regular file (a pipe or a device), expected a {what} file");
        if (file.Length > maxBytes) throw new PldrException($"{path}: {file.Length} bytes, more than the {maxBytes} bytes a {what} file may have");
        return file.Length;
    }

    /// <summary>The whole content of a regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="PldrException">As <see cref="Length"/>, or the file cannot be read or changes while it is read.</exception>
    public static byte[] ReadAll(string path, long maxBytes, string what)
    {
        long length = Length(path, maxBytes, what);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            if (stream.ReadByte() >= 0) throw new PldrException($"{path}: grew while it was read");
            return bytes;
        }
        catch (EndOfStreamException e) { throw new PldrException($"{path}: shrank while it was read", e); }
        catch (IOException e) { throw new PldrException($"{path}: cannot read ({e.Message})", e); }
        catch (UnauthorizedAccessException e) { throw new PldrException($"{path}: cannot read ({e.Message})", e); }
    }
}
