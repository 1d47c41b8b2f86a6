#!/usr/bin/env bash
# Packs PldrGen and PldrGen.CommandLine, restores this project from the fresh packages (never a cached copy), builds
# it and generates with its spec on the demo model. Run from anywhere; CI runs it after the tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
fail() { echo "tests/PldrGen.NuGet.Smoke: $*" >&2; exit 1; }

for project in PldrGen.Runtime PldrGen.CommandLine; do
  dotnet pack "$root/src/$project" -c Release -o "$root/artifacts/packages" --nologo -v quiet
done
version="$(dotnet msbuild "$here/PldrGen.NuGet.Smoke.csproj" -getProperty:PldrGenVersion)"
package="$root/artifacts/packages/PldrGen.$version.nupkg"
cli_package="$root/artifacts/packages/PldrGen.CommandLine.$version.nupkg"
for p in "$package" "$cli_package"; do [[ -f "$p" ]] || fail "$p was not packed"; done
python3 - "$package" "$cli_package" <<'PY' || fail "a package lacks a file above, or the runtime depends on System.CommandLine"
import sys, zipfile
wanted = {sys.argv[1]: ["lib/net10.0/PldrGen.Runtime.dll", "analyzers/dotnet/cs/PldrGen.Generator.dll",
                        "analyzers/dotnet/cs/YamlDotNet.dll", "buildTransitive/PldrGen.props"],
          sys.argv[2]: ["lib/net10.0/PldrGen.CommandLine.dll"]}
ok = True
for package, files in wanted.items():
    archive = zipfile.ZipFile(package)
    names = set(archive.namelist())
    print(package)
    for name in files:
        print(("  " if name in names else "  MISSING ") + name)
        ok &= name in names
    if package == sys.argv[1]:
        nuspec = archive.read("PldrGen.nuspec").decode()
        ok &= "System.CommandLine" not in nuspec
sys.exit(0 if ok else 1)
PY

# The same version was restored before: drop the extracted copy, so restore takes the package just packed, and
# this project's own outputs, so the build compiles with it.
global="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')"
rm -rf "${global%/}/pldrgen/$version" "${global%/}/pldrgen.commandline/$version" "$here/bin" "$here/obj"
dotnet restore "$here/PldrGen.NuGet.Smoke.csproj" --nologo -v quiet
dotnet build "$here/PldrGen.NuGet.Smoke.csproj" -c Release --no-restore --nologo -v quiet
cmp -s "$package" "${global%/}/pldrgen/$version/pldrgen.$version.nupkg" || fail "restore did not take $package"
cmp -s "$cli_package" "${global%/}/pldrgen.commandline/$version/pldrgen.commandline.$version.nupkg" || fail "restore did not take $cli_package"
smoke=(dotnet "$here/bin/Release/net10.0/PldrGen.NuGet.Smoke.dll")

models="$("${smoke[@]}" models)"
echo "$models"
[[ "$(tail -n +2 <<<"$models" | awk '{print $1}')" == SmokeTinyPydoc ]] \
  || fail "'models' should list exactly SmokeTinyPydoc (smoke.pldr.yaml, picked up by the package's props)"
text="$("${smoke[@]}" generate --model "$root/models/pldr-tiny-pydoc" --prompt "The import statement" --greedy --max-new-tokens 8)"
echo "generated: $text"
[[ "$text" == "The import statement is used to the same"* ]] || fail "unexpected greedy text"
echo "tests/PldrGen.NuGet.Smoke: ok (PldrGen and PldrGen.CommandLine $version from artifacts/packages)"
