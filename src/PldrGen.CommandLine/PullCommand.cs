using System.CommandLine;
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
            using var progress = ProgressLine.ForDownloads(stderr);
            stdout.WriteLine(downloader.Pull(id, progress.Report, cancel));
            return 0;
        });
        return command;
    }
}
