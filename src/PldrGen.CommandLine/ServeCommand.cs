using System.CommandLine;
using PldrGen.Runtime;
using PldrGen.Server;

namespace PldrGen.CommandLine;

/// <summary><c>pldr serve</c>: an OpenAI-compatible server for one checkpoint (see PldrGen.Server).</summary>
static class ServeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new ModelOptions();
        var host = new Option<string>("--host") { Description = "Address to listen on; anything but loopback needs --api-key", DefaultValueFactory = _ => "127.0.0.1", HelpName = "ADDRESS" };
        var port = new Option<int>("--port") { Description = "TCP port (0 = any free port, printed at start)", DefaultValueFactory = _ => 8080, HelpName = "PORT" };
        var slots = new Option<int>("--slots") { Description = "Sequences generated at once", DefaultValueFactory = _ => 1, HelpName = "N" };
        var queue = new Option<int>("--queue") { Description = "Requests that may wait for a slot before the server answers 503", DefaultValueFactory = _ => 256, HelpName = "N" };
        var apiKey = new Option<string?>("--api-key") { Description = "Require Authorization: Bearer KEY on every request (default: the PLDR_API_KEY environment variable)", HelpName = "KEY" };
        var gCaches = new Option<string[]>("--g-cache") { Description = "A G-cache file requests may name as pldr.g_cache (repeatable)", HelpName = "NAME=FILE", Arity = ArgumentArity.ZeroOrMore };
        var maxBody = new Option<long>("--max-body-bytes") { Description = "Largest request body accepted (413 beyond)", DefaultValueFactory = _ => 1 << 20, HelpName = "BYTES" };
        var noWarmUp = RunOptions.NoWarmUpOption();
        var command = new Command("serve", "Serve the model over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions, a playground at /)");
        command.Add(model.Model);
        foreach (var option in new Option[] { host, port, slots, queue, apiKey, gCaches, maxBody, noWarmUp }) command.Add(option);
        command.SetAction(result =>
        {
            string directory = model.ModelDirectory(result);
            var options = new PldrServerOptions
            {
                Model = ModelResolver.Resolve(directory),
                ModelDirectory = directory,
                Host = result.GetValue(host)!,
                Port = result.GetValue(port),
                Slots = result.GetValue(slots),
                QueueLimit = result.GetValue(queue),
                ApiKey = result.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("PLDR_API_KEY"),
                GCacheFiles = NamedFiles(result.GetValue(gCaches) ?? []),
                MaxBodyBytes = result.GetValue(maxBody),
                WarmUp = !result.GetValue(noWarmUp),
            };
            PldrServer.RunAsync(options, started: url =>
            {
                stdout.WriteLine($"pldr serve: {options.Model.Name} on {url} with {options.Slots} slot(s); playground at {url}/, API at {url}/v1");
                stdout.Flush();
            }).GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    static Dictionary<string, string> NamedFiles(string[] entries)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in entries)
        {
            int at = entry.IndexOf('=');
            if (at <= 0 || at == entry.Length - 1) throw new PldrException($"--g-cache {entry}: expected NAME=FILE");
            if (!files.TryAdd(entry[..at], entry[(at + 1)..])) throw new PldrException($"--g-cache {entry}: the name {entry[..at]} is given twice");
        }
        return files;
    }
}
