using System.Diagnostics;
using System.Reflection;

namespace PldrGen.TestSupport;

/// <summary>
/// A pldr program's build output, run as a separate process: <see cref="Shipped"/> is what users get (the
/// user-facing specs), <see cref="WithTestSpecs"/> the test-only host that also compiles the fixtures' specs.
/// </summary>
public sealed class PldrProgram(string project)
{
    public static PldrProgram Shipped { get; } = new(Path.Combine("src", "PldrGen.Cli"));
    public static PldrProgram WithTestSpecs { get; } = new(Path.Combine("tests", "PldrGen.TestHost"));

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    static string Configuration => typeof(PldrProgram).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;

    /// <summary>The clone the tests run from: the folder above the test's build output that holds PldrGen.sln.</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PldrGen.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    public string Directory => Path.Combine(RepoRoot, project, "bin", Configuration, "net10.0");

    /// <summary>The demo model that the build copies beside the program.</summary>
    public string DemoModel => Path.Combine(Directory, "models", "pldr-tiny-pydoc");

    public Result Run(params string[] args) => Run(args, stdin: "");

    /// <summary>Runs pldr with <paramref name="stdin"/> as its standard input (closed after it) and extra environment variables.</summary>
    public Result Run(string[] args, string stdin, IReadOnlyDictionary<string, string>? environment = null)
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

    public ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(Directory, "pldr.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return start;
    }
}
