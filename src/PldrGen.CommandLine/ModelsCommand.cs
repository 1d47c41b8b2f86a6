using System.CommandLine;
using System.Globalization;
using PldrGen.Runtime;

namespace PldrGen.CommandLine;

/// <summary><c>pldr models</c>: the specs compiled into this program (a table on stdout) and where the demo model is (stderr).</summary>
static class ModelsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("models", "List the model specs compiled into this program");
        command.SetAction(_ =>
        {
            stdout.WriteLine("model                      layers  hidden  heads×dk   vocab  positions  G");
            foreach (var m in PldrModelCatalog.All)
            {
                var c = m.Config;
                string g = c.CustomGType is null ? $"learned (R {c.NumReslayerA}, N {c.NumDenseA}, Fa {c.ADff})" : $"custom: {c.CustomGType}";
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{m.Name,-26} {c.NumHiddenLayers,6}  {c.HiddenSize,6}  {c.NumAttentionHeads + "×" + c.HeadDim,8}  {c.VocabSize,6}  {c.MaxPositionEmbeddings,9}  {g}"));
            }
            stderr.WriteLine(DemoModel.Directory is { } demo
                ? $"demo model (used without --model): {demo}"
                : $"demo model: not beside this program (expected in {DemoModel.ExpectedDirectory}); pass --model DIR");
            return 0;
        });
        return command;
    }
}
