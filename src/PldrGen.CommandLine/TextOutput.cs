using System.Text;
using Microsoft.Win32.SafeHandles;

namespace PldrGen.CommandLine;

/// <summary>The process's standard output as the command line writes it.</summary>
static class StandardOutput
{
    /// <summary>
    /// Console.Out drops what is written to a pipe whose reader has gone (.NET ignores EPIPE there), so a pipe gets
    /// a plain stream over file descriptor 1, whose writes fail with EPIPE and so stop generation.
    /// </summary>
    public static TextWriter Open()
    {
        if (OperatingSystem.IsWindows() || !Console.IsOutputRedirected) return Console.Out;
        try
        {
            var stream = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
            // A file keeps the console: a FileStream writes at its own position from 0, which would overwrite what
            // others wrote before (`{ pldr …; pldr …; } > out.txt`, `>> log`).
            if (stream.CanSeek) return Console.Out;
            return new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return Console.Out; // not a file descriptor a stream can take (closed): the console's own handling applies
        }
    }
}

/// <summary>
/// Standard output while tokens stream: flushed after every piece, so a reader sees text as it comes. A reader that
/// goes away (<c>pldr generate | head -c 100</c>) ends the output: <see cref="OutputClosedException"/> stops
/// generation, and the command exits 0 as other Unix tools do.
/// </summary>
sealed class TextOutput(TextWriter stdout)
{
    public void Write(string text)
    {
        if (text.Length == 0) return;
        try
        {
            stdout.Write(text);
            stdout.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputClosedException(e);
        }
    }

    public void WriteLine(string text = "") => Write(text + Environment.NewLine);
}

/// <summary>Standard output was closed or its pipe broke while text was written.</summary>
sealed class OutputClosedException(Exception inner) : Exception(inner.Message, inner)
{
    /// <summary>EPIPE: the reader exited, which is how a pipeline says it has read enough.</summary>
    public bool BrokenPipe => IsBrokenPipe(InnerException!);

    public static bool IsBrokenPipe(Exception e) => e.HResult is 32 or unchecked((int)0x8007006D) or unchecked((int)0x800700E8);
}
