namespace PldrGen.Tests;

/// <summary>A scratch folder under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("pldrgen-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Copies a fixture model folder's config.json and model.safetensors here.</summary>
    public TempDirectory WithModel(string fixture)
    {
        foreach (var file in new[] { "config.json", "model.safetensors" })
            System.IO.File.Copy(System.IO.Path.Combine(Fixtures.ModelDir(fixture), file), File(file));
        return this;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
