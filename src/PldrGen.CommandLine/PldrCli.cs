using System.CommandLine;
using PldrGen.Runtime;

namespace PldrGen.CommandLine;

/// <summary>
/// The <c>pldr</c> command line, for every spec compiled into the running program. A project that holds its own
/// <c>*.pldr.yaml</c> specs gets the whole tool with one line: <c>return PldrCli.Run(args);</c>.
/// </summary>
public static class PldrCli
{
    /// <summary>Exit codes: 0 success, 1 a problem with the input (one line on stderr), 2 bad options.</summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var root = new RootCommand("pldr: run PLDR-LLMs compiled by PldrGen (power law graph attention, KV-cache and G-cache).")
        {
            GenerateCommand.Create(stdout, stderr),
            GCacheCommand.Create(stdout),
            TokenizeCommand.Create(stdout),
            TokenizeCommand.CreateDetokenize(stdout),
            ModelsCommand.Create(stdout),
            SpecCommand.Create(stdout),
            ServeCommand.Create(stdout),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            string command = string.Join(' ', parsed.CommandResult.Command.Name == root.Name ? ["pldr"] : ["pldr", parsed.CommandResult.Command.Name]);
            string message = string.Join(' ', parsed.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            stderr.WriteLine($"pldr: {message} (see '{command} --help')");
            return 2;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (PldrException e)
        {
            stderr.WriteLine($"pldr: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"pldr: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"pldr: internal error ({e.GetType().Name}: {e.Message}); please report it");
            return 70;
        }
    }
}
