using System.Text.Json;

namespace PldrGen.Tests.Research;

/// <summary>tests/fixtures/usage/usage.json: the authors' numbers for the demo model (see the README there).</summary>
public static class UsageFixture
{
    public static string Path => System.IO.Path.Combine(Fixtures.Root, "usage", "usage.json");

    public static JsonElement Root { get; } = JsonDocument.Parse(File.ReadAllText(Path)).RootElement;

    public static int[] Ids(JsonElement element) => element.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public static string Demo => Fixtures.ModelDir("pldr-tiny-pydoc");
}
