using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using PldrGen.Runtime;

namespace PldrGen.CommandLine;

/// <summary>
/// The <c>pldr</c> command line, for every spec compiled into the running program. A project that holds its own
/// <c>*.pldr.yaml</c> specs gets the whole tool with one line: <c>return PldrCli.Run(args);</c>.
/// </summary>
public static partial class PldrCli
{
    /// <summary>What a run stopped by Ctrl-C exits with (128 + SIGINT, as shells report it).</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>Exit codes: 0 success, 1 a problem with the input (one line on stderr), 2 bad options, 130 Ctrl-C.</summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= StandardOutput.Open();
        stderr ??= Console.Error;
        using var interrupt = new CancellationTokenSource();
        // The first Ctrl-C stops generation (the text so far stays, the timings follow); a second one ends the process.
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            if (interrupt.IsCancellationRequested) return;
            e.Cancel = true;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCtrlC;
        try
        {
            return Run(args, stdout, stderr, interrupt.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }
    }

    static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var root = new RootCommand("pldr: run PLDR-LLMs compiled by PldrGen (power law graph attention, KV-cache and G-cache). " +
            $"Without --model, commands run the demo model, read from {DemoModel.ExpectedDirectory}; 'pldr models' lists the specs compiled in.")
        {
            GenerateCommand.Create(stdout, stderr, cancel),
            ChatCommand.Create(stdout, stderr, cancel),
            BatchCommand.Create(stdout, stderr),
            GCacheCommand.Create(stdout),
            TokenizeCommand.Create(stdout),
            TokenizeCommand.CreateDetokenize(stdout),
            PullCommand.Create(stdout, stderr, cancel),
            ModelsCommand.Create(stdout, stderr),
            SpecCommand.Create(stdout),
            ConvertCommand.Create(stdout, stderr),
            PerplexityCommand.Create(stdout, stderr),
            ScoreCommand.Create(stdout),
            OrderParameterCommand.Create(stdout),
            InvarianceCommand.Create(stdout),
            InspectCommand.Create(stdout),
            ServeCommand.Create(stdout),
        };
        string commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
        if (args.Length == 0)
        {
            stderr.WriteLine($"pldr: give a command: {commands} (see 'pldr --help')");
            return 2;
        }
        if (!args[0].StartsWith('-') && root.Subcommands.All(c => c.Name != args[0]))
        {
            stderr.WriteLine($"pldr: '{args[0]}' is not a pldr command; the commands are {commands} (see 'pldr --help')");
            return 2;
        }
        // A prompt may start with '@' ("@staticmethod …"): no argument is ever read as a response file.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            string command = string.Join(' ', parsed.CommandResult.Command.Name == root.Name ? ["pldr"] : ["pldr", parsed.CommandResult.Command.Name]);
            stderr.WriteLine($"pldr: {PlainWords(parsed.Errors[0])} (see '{command} --help')");
            return 2;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (OutputClosedException e)
        {
            if (e.BrokenPipe) return 0; // the reader has read enough
            stderr.WriteLine($"pldr: cannot write to standard output ({OneLine(e.Message)})");
            return 1;
        }
        catch (Exception e) when (e is PldrException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"pldr: {OneLine(e.Message)}");
            return 1;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"pldr: internal error ({e.GetType().Name}: {OneLine(e.Message)}); please report it");
            return 70;
        }
    }

    /// <summary>The parser's message on one line, with .NET type names said in words and the option it is about named.</summary>
    static string PlainWords(ParseError error)
    {
        string line = string.Join(' ', error.Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        line = TypeError().Replace(line, m => $"{m.Groups["option"].Value}: '{m.Groups["value"].Value}' is not {m.Groups["type"].Value switch
        {
            "System.Int32" or "System.Int64" => "a whole number",
            "System.Single" or "System.Double" => "a number",
            var other => "a valid " + other[(other.LastIndexOf('.') + 1)..],
        }}");
        // "Argument 'x' not recognized. Must be one of: …" says neither which option nor which command took it.
        string? option = error.SymbolResult switch
        {
            OptionResult o => o.Option.Name,
            ArgumentResult { Parent: OptionResult o } => o.Option.Name,
            _ => null,
        };
        return option is null || line.Contains(option, StringComparison.Ordinal) ? line : $"{option}: {line}";
    }

    [GeneratedRegex(@"Cannot parse argument '(?<value>.*)' for option '(?<option>[^']*)' as expected type '(?<type>[^']*)'\.?")]
    private static partial Regex TypeError();

    /// <summary>A message on one line: names taken from files (a tensor, a key) may hold line breaks.</summary>
    static string OneLine(string message) => string.Concat(message.Select(c => char.IsControl(c) ? ' ' : c));
}
