using System.Diagnostics;
using System.Reflection;

namespace PldrGen.Tests.Cli;

/// <summary>Runs the real pldr program (src/PldrGen.Cli's build output) as a separate process.</summary>
public static class PldrProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    static string Configuration => typeof(PldrProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;

    public static string ProgramDirectory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PldrGen.sln"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
            return Path.Combine(dir.FullName, "src", "PldrGen.Cli", "bin", Configuration, "net10.0");
        }
    }

    public static Result Run(params string[] args) => Run(args, stdin: "");

    /// <summary>Runs pldr with <paramref name="stdin"/> as its standard input (closed after it) and extra environment variables.</summary>
    public static Result Run(string[] args, string stdin, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Process.Start(StartInfo(args, environment))!;
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("pldr " + string.Join(' ', args) + " did not finish in 2 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(ProgramDirectory, "pldr.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return start;
    }
}
