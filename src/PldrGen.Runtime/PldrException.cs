namespace PldrGen.Runtime;

/// <summary>
/// A problem with user input (a checkpoint, a G-cache file, a token, an option) that the user can fix.
/// The message names what is wrong; the command line prints it as one line, never as a stack trace.
/// </summary>
public sealed class PldrException(string message, Exception? inner = null) : Exception(message, inner);
