using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PldrGen.Server.Tests;

/// <summary>
/// A running <c>pldr serve</c> on 127.0.0.1 with a port the system picked (--port 0; the program prints it), for
/// one test class or collection. Disposing stops it with SIGTERM, as a service manager would.
/// </summary>
public sealed partial class ServerProcess : IDisposable
{
    readonly Process _process;
    readonly Task<string> _stderr;

    public ServerProcess(params string[] args)
    {
        _process = Process.Start(PldrProgram.Shipped.StartInfo(["serve", "--port", "0", .. args]))!;
        _stderr = _process.StandardError.ReadToEndAsync();
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromMinutes(1)) || line.Result is null)
        {
            _process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("pldr serve did not start: " + _stderr.Result);
        }
        Url = Address().Match(line.Result).Groups[1].Value;
        Stdout = _process.StandardOutput.ReadToEndAsync();
        Http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromMinutes(3) };
    }

    /// <summary>http://127.0.0.1:PORT, no trailing slash.</summary>
    public string Url { get; }
    public HttpClient Http { get; }
    public Task<string> Stdout { get; }
    public int Pid => _process.Id;

    public async Task<JsonElement> HealthAsync() => await Http.GetFromJsonAsync<JsonElement>("/health");

    /// <summary>Resident memory of the server process, from /proc.</summary>
    public long ResidentBytes()
    {
        string status = File.ReadAllText($"/proc/{Pid}/status");
        return long.Parse(Regex.Match(status, @"VmRSS:\s+(\d+) kB").Groups[1].Value) * 1024;
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public int Terminate(TimeSpan wait)
    {
        if (!_process.HasExited) Process.Start("kill", ["-TERM", Pid.ToString()])!.WaitForExit();
        if (!_process.WaitForExit(wait))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException("pldr serve did not stop within " + wait);
        }
        return _process.ExitCode;
    }

    public string Stderr => _process.HasExited ? _stderr.Result : "";

    public void Dispose()
    {
        Http.Dispose();
        if (!_process.HasExited) Terminate(TimeSpan.FromSeconds(30));
        _process.Dispose();
    }

    [GeneratedRegex(@" on (http://[^ ]+) with")]
    private static partial Regex Address();
}
