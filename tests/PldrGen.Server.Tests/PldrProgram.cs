using System.Diagnostics;
using System.Reflection;

namespace PldrGen.Server.Tests;

/// <summary>The real pldr program (src/PldrGen.Cli's build output) and the demo model beside it.</summary>
static class PldrProgram
{
    static string Configuration => typeof(PldrProgram).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;

    public static string Directory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PldrGen.sln"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
            return Path.Combine(dir.FullName, "src", "PldrGen.Cli", "bin", Configuration, "net10.0");
        }
    }

    public static string DemoModel => Path.Combine(Directory, "models", "pldr-tiny-pydoc");

    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(Directory, "pldr.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("pldr " + string.Join(' ', args) + " did not finish in 2 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
