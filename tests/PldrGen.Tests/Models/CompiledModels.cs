using PldrGen.Models;
using PldrGen.Runtime;

namespace PldrGen.Tests.Models;

/// <summary>The spec compiled for each fixture model (specs/*.pldr.yaml are compiled into this test assembly).</summary>
public static class CompiledModels
{
    public static PldrModelInfo Info(string fixture) => fixture switch
    {
        "tiny-v510" => TinyV510.ModelInfo,
        "odd-v510" => OddV510.ModelInfo,
        "tiny-v510G-identity" => TinyV510GIdentity.ModelInfo,
        "tiny-v510G-external" => TinyV510GExternal.ModelInfo,
        "tiny-v510-bf16" => TinyV510Bf16.ModelInfo,
        "pldr-tiny-pydoc" => PldrTinyPydoc.ModelInfo,
        _ => throw new ArgumentException($"no spec for fixture {fixture}"),
    };

    public static IPldrModel Load(string fixture) => Info(fixture).Load(Fixtures.ModelDir(fixture));
}
