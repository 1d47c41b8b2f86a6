using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using PldrGen.Runtime.Hub;

namespace PldrGen.CommandLine;

/// <summary>
/// <c>pldr pull OWNER/NAME[@REVISION]</c>: downloads a model folder from the Hugging Face Hub into the Hub's own
/// cache (HF_HOME, HF_ENDPOINT, HF_TOKEN as its clients read them) and prints the folder, which --model then finds by
/// the same name.
/// </summary>
static class PullCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var name = new Argument<string>("model") { Description = "OWNER/NAME or OWNER/NAME@REVISION (a branch, tag or commit; default main)", HelpName = "OWNER/NAME[@REVISION]" };
        var offline = new Option<bool>("--offline") { Description = "Use only what is in the cache (as HF_HUB_OFFLINE=1 does); fail when it is not there" };
        var command = new Command("pull", "Download config.json, model.safetensors and tokenizer.model of a Hugging Face model (resumable, sha256-checked)") { name, offline };
        command.SetAction(result =>
        {
            var id = HubModelId.Parse(result.GetValue(name)!);
            var settings = HubSettings.FromEnvironment();
            if (result.GetValue(offline)) settings = settings with { Offline = true };
            using var downloader = new HubDownloader(settings);
            stdout.WriteLine(downloader.Pull(id, new Progress(stderr).Report, cancel));
            return 0;
        });
        return command;
    }

    /// <summary>Download progress on stderr: redrawn in place on a terminal, a line per file otherwise.</summary>
    sealed class Progress(TextWriter stderr)
    {
        readonly Stopwatch clock = Stopwatch.StartNew();
        TimeSpan lastDrawn;

        public void Report(string file, long received, long size)
        {
            bool done = received == size;
            if (Console.IsErrorRedirected ? !done : !done && clock.Elapsed - lastDrawn < TimeSpan.FromMilliseconds(200)) return;
            lastDrawn = clock.Elapsed;
            string line = string.Create(CultureInfo.InvariantCulture,
                $"pldr: {file}  {received / 1e6:0.0} / {size / 1e6:0.0} MB  {(size > 0 ? 100.0 * received / size : 100):0}%");
            stderr.Write(Console.IsErrorRedirected ? line + Environment.NewLine : "\r" + line + (done ? Environment.NewLine : ""));
        }
    }
}
