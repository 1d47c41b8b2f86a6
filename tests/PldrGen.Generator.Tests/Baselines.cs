namespace PldrGen.Generator.Tests;

/// <summary>
/// Checked-in expected output under Baselines/. After an intended change to the emitter, rewrite them with
/// <c>PLDRGEN_UPDATE_BASELINES=1 dotnet test tests/PldrGen.Generator.Tests</c> and review the diff like code.
/// </summary>
static class Baselines
{
    static bool Update => Environment.GetEnvironmentVariable("PLDRGEN_UPDATE_BASELINES") == "1";

    public static void AssertMatches(string fileName, string actual)
    {
        string path = Path.Combine(GeneratorHarness.BaselinesDirectory, fileName);
        actual = NormalizeNewLines(actual);
        if (Update)
        {
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"No baseline {path}: run the tests with PLDRGEN_UPDATE_BASELINES=1 to write it.");
        string[] expected = NormalizeNewLines(File.ReadAllText(path)).Split('\n');
        string[] generated = actual.Split('\n');
        int line = 0;
        while (line < expected.Length && line < generated.Length && expected[line] == generated[line]) line++;
        if (line == expected.Length && line == generated.Length) return;
        Assert.Fail($"""
            {fileName} differs from its baseline at line {line + 1}:
              baseline:  {(line < expected.Length ? expected[line] : "(end of file)")}
              generated: {(line < generated.Length ? generated[line] : "(end of file)")}
            If the change is intended, rerun with PLDRGEN_UPDATE_BASELINES=1 and review the diff of Baselines/.
            """);
    }

    // The emitter's raw strings take the line endings of the checkout: compare content, not line endings.
    static string NormalizeNewLines(string text) => text.Replace("\r\n", "\n");
}
