using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using PldrGen.Runtime.Checkpoints;

namespace PldrGen.CommandLine;

/// <summary>
/// Progress on stderr as one line, "pldr: WHAT  12.3 / 45.6 MB  27%": redrawn in place at most five times a second
/// and ended with a newline when the work is done (or given up), or, where nothing may be redrawn, written once per
/// finished piece of work, or not at all.
/// </summary>
sealed class ProgressLine(TextWriter stderr, ProgressLine.Style style, string what = "", TimeSpan quietFor = default)
    : IProgress<CheckpointProgress>, IDisposable
{
    public enum Style { Off, FinishedLines, Redrawn }

    static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(200);
    readonly Stopwatch clock = Stopwatch.StartNew();
    TimeSpan lastDrawn;
    bool open; // a redrawn line is on screen without its newline

    /// <summary>pldr pull's style: redrawn on a terminal, a line per finished file when stderr is redirected.</summary>
    public static ProgressLine ForDownloads(TextWriter stderr) =>
        new(stderr, Console.IsErrorRedirected ? Style.FinishedLines : Style.Redrawn);

    public void Report(CheckpointProgress value) => Report(what, value.BytesDone, value.TotalBytes);

    public void Report(string item, long done, long total)
    {
        bool finished = done >= total;
        var now = clock.Elapsed;
        bool draw = style switch
        {
            Style.FinishedLines => finished,
            // Work done before quietFor passes prints nothing: a small model loads without a line.
            Style.Redrawn => now >= quietFor && (finished || !open || now - lastDrawn >= RedrawInterval),
            _ => false,
        };
        if (!draw) return;
        lastDrawn = now;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"pldr: {item}  {done / 1e6:0.0} / {total / 1e6:0.0} MB  {(total > 0 ? 100.0 * done / total : 100):0}%");
        if (style == Style.FinishedLines) stderr.WriteLine(line);
        else stderr.Write("\r" + line + (finished ? Environment.NewLine : ""));
        open = style == Style.Redrawn && !finished;
    }

    /// <summary>Ends a line left open by work that stopped early, so that the error message starts on its own line.</summary>
    public void Dispose()
    {
        if (open) stderr.WriteLine();
        open = false;
    }
}

/// <summary><c>--progress auto|on|off</c>: the progress line while a checkpoint loads or converts.</summary>
static class ProgressOption
{
    /// <summary>With auto, a load that ends sooner than this prints nothing.</summary>
    static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(0.5);

    public static Option<string> Create()
    {
        var option = new Option<string>("--progress")
        {
            Description = "A progress line on stderr while the checkpoint is read: auto (on a terminal, once reading takes over half a second), on (always, redrawn with \\r), off",
            DefaultValueFactory = _ => "auto", HelpName = "WHEN",
        };
        option.AcceptOnlyFromAmong("auto", "on", "off");
        return option;
    }

    public static ProgressLine Start(ParseResult result, Option<string> option, TextWriter stderr, string what) => result.GetValue(option) switch
    {
        "on" => new ProgressLine(stderr, ProgressLine.Style.Redrawn, what),
        "off" => new ProgressLine(stderr, ProgressLine.Style.Off, what),
        _ => new ProgressLine(stderr, Console.IsErrorRedirected ? ProgressLine.Style.Off : ProgressLine.Style.Redrawn, what, QuietFor),
    };
}
