using System.Diagnostics;
using System.Globalization;
using PldrGen.Fuzz;

// Seeded mutation fuzzing of every loader and of specs through the generator (README: Reliability).
//   dotnet run -c Release --project tests/PldrGen.Fuzz -- [--inputs N] [--seed S] [--target NAME]... [--findings DIR]
// Each input is a clean refusal, an acceptance, or a bad outcome: another exception type, more than 2 s of CPU time,
// or more than 200 MB allocated. Bad inputs are written to the findings folder; the exit code is 1 when there is any.
var options = Options.Parse(args);
var targets = Targets.All().Where(t => options.Targets.Count == 0 || options.Targets.Contains(t.Name)).ToList();
if (targets.Count == 0) return Fail("no target matches; targets: " + string.Join(", ", Targets.All().Select(t => t.Name)));

Console.WriteLine($"pldr fuzz: {options.Inputs} inputs per target, seed {options.Seed}, findings in {options.Findings}");
Console.WriteLine($"{"target",-16} {"inputs",8} {"rejected",9} {"accepted",9} {"bad",5} {"max CPU ms",10} {"max MB",7} {"seconds",8}");
int bad = 0;
var total = Stopwatch.StartNew();
foreach (var target in targets) bad += Campaign.Run(target, options);
Console.WriteLine($"{bad} bad outcomes in {total.Elapsed.TotalSeconds:F0} s");
return bad == 0 ? 0 : 1;

static int Fail(string message)
{
    Console.Error.WriteLine("pldr fuzz: " + message);
    return 2;
}

sealed record Options(int Inputs, int Seed, IReadOnlyList<string> Targets, string Findings)
{
    public static Options Parse(string[] args)
    {
        int inputs = 2_000, seed = 1;
        var targets = new List<string>();
        string findings = Path.Combine(Path.GetTempPath(), "pldrgen-fuzz-findings");
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--inputs": inputs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--target": targets.Add(args[i + 1]); break;
                case "--findings": findings = args[i + 1]; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        return new Options(inputs, seed, targets, findings);
    }
}
