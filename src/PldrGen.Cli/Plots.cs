using System.Runtime.CompilerServices;

namespace PldrGen.Cli;

/// <summary>The JIT build draws pictures (pldr inspect); the NativeAOT build leaves this file out.</summary>
static class Plots
{
    [ModuleInitializer]
    internal static void Register() => PldrGen.Plots.DeductivePainter.Register();
}
