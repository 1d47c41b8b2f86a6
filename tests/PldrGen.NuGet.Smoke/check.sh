#!/usr/bin/env bash
# Packs PldrGen, restores this project from the fresh package (never a cached copy), builds it and generates with
# its spec on the demo model. Run from anywhere; CI runs it after the tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
fail() { echo "tests/PldrGen.NuGet.Smoke: $*" >&2; exit 1; }

dotnet pack "$root/src/PldrGen.Runtime" -c Release -o "$root/artifacts/packages" --nologo -v quiet
version="$(dotnet msbuild "$here/PldrGen.NuGet.Smoke.csproj" -getProperty:PldrGenVersion)"
package="$root/artifacts/packages/PldrGen.$version.nupkg"
[[ -f "$package" ]] || fail "$package was not packed"
python3 - "$package" <<'PY' || fail "$package lacks a file above"
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
wanted = ["lib/net10.0/PldrGen.Runtime.dll", "analyzers/dotnet/cs/PldrGen.Generator.dll",
          "analyzers/dotnet/cs/YamlDotNet.dll", "buildTransitive/PldrGen.props"]
for name in wanted:
    print(("  " if name in names else "  MISSING ") + name)
sys.exit(0 if all(n in names for n in wanted) else 1)
PY

# The same version was restored before: drop the extracted copy, so restore takes the package just packed, and
# this project's own outputs, so the build compiles with it.
global="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')"
rm -rf "${global%/}/pldrgen/$version" "$here/bin" "$here/obj"
dotnet restore "$here/PldrGen.NuGet.Smoke.csproj" --nologo -v quiet
dotnet build "$here/PldrGen.NuGet.Smoke.csproj" -c Release --no-restore --nologo -v quiet
cmp -s "$package" "${global%/}/pldrgen/$version/pldrgen.$version.nupkg" || fail "restore did not take $package"
smoke=(dotnet "$here/bin/Release/net10.0/PldrGen.NuGet.Smoke.dll")

models="$("${smoke[@]}" models)"
echo "$models"
[[ "$(tail -n +2 <<<"$models" | awk '{print $1}')" == SmokeTinyPydoc ]] \
  || fail "'models' should list exactly SmokeTinyPydoc (smoke.pldr.yaml, picked up by the package's props)"
text="$("${smoke[@]}" generate --model "$root/models/pldr-tiny-pydoc" --prompt "The import statement" --greedy --max-new-tokens 8)"
echo "generated: $text"
[[ "$text" == "The import statement is used to the same"* ]] || fail "unexpected greedy text"
echo "tests/PldrGen.NuGet.Smoke: ok (PldrGen $version from $package)"
