#!/usr/bin/env bash
# The ILGPU forward pass on one NVIDIA GPU: the fixture models on CUDA in every cache mode, then the 110M spec with
# random weights, prefill and decode timed on CUDA against the CPU model, then its batched decode step at 1, 4 and 16
# slots over one model (PLDRGEN_SLOTS), slot 0 checked bit for bit against the same sequence alone (two tables last).
# Under 10 minutes.
#
#   bench/gpu-check.sh            run on the GPU machine (from the repository root or anywhere)
#   bench/gpu-check.sh prepare    on a machine with the .NET 10 SDK: publish a self-contained build to bench/out/
#                                 (no .NET needed to run it) for GPU machines that have no SDK and no network
#
# With the SDK present it builds and runs the xunit tests on CUDA (PLDRGEN_TEST_DEVICE=cuda dotnet test
# tests/PldrGen.Ilgpu.Tests); otherwise it runs the prepared bench/out/pldrgen-gpu-check (same checks, no xunit).
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
DEVICE=${PLDRGEN_GPU_DEVICE:-cuda}
PROMPT=${PLDRGEN_PROMPT_TOKENS:-128}
DECODE=${PLDRGEN_DECODE_TOKENS:-64}
SPEC=${PLDRGEN_TIMING_SPEC:-110m}   # "tiny" times the tiny fixture shape instead (a quick run of the script itself)
SLOTS=${PLDRGEN_SLOTS:-1,4,16}
BUNDLE=bench/out/pldrgen-gpu-check

find_dotnet() {
  [ "${PLDRGEN_DOTNET:-}" = none ] && return 1   # behave as on a machine without the SDK (to try the prepared build)
  for candidate in "$(command -v dotnet 2>/dev/null)" "${DOTNET_ROOT:+$DOTNET_ROOT/dotnet}" "$HOME/.dotnet/dotnet" /usr/share/dotnet/dotnet /usr/lib/dotnet/dotnet; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" --list-sdks 2>/dev/null | grep -q '^10\.'; then echo "$candidate"; return 0; fi
  done
  return 1
}

if [ "${1:-}" = prepare ]; then
  DOTNET=$(find_dotnet) || { echo "gpu-check prepare: needs the .NET 10 SDK (dotnet not found)" >&2; exit 3; }
  rm -rf bench/out
  "$DOTNET" publish bench/PldrGen.Ilgpu.Bench -c Release -r linux-x64 --self-contained \
    -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -o bench/out || exit 1
  rm -f bench/out/*.pdb bench/out/*.xml
  echo "gpu-check prepare: $(du -sh bench/out | cut -f1) in bench/out; take that folder to the GPU machine (device tool: carry [\"bench/out\"]) and run bench/gpu-check.sh there"
  exit 0
fi

echo "== gpu-check on $(hostname), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; else echo "(nvidia-smi not found)"; fi

status=0
if DOTNET=$(find_dotnet); then
  echo "== .NET SDK: $DOTNET ($("$DOTNET" --version)); build (needs the NuGet packages: a network or a filled ~/.nuget/packages)"
  timeout 240 "$DOTNET" build bench/PldrGen.Ilgpu.Bench -c Release -v q -nologo || exit 1
  timeout 240 "$DOTNET" build tests/PldrGen.Ilgpu.Tests -c Release -v q -nologo || exit 1
  echo "== fixture tests on $DEVICE (xunit, PLDRGEN_TEST_DEVICE=$DEVICE)"
  PLDRGEN_TEST_DEVICE=$DEVICE timeout 300 "$DOTNET" test tests/PldrGen.Ilgpu.Tests -c Release --no-build --logger "console;verbosity=normal" || status=1
  RUN=("$DOTNET" bench/PldrGen.Ilgpu.Bench/bin/Release/net10.0/pldrgen-gpu-check.dll)
elif [ -x "$BUNDLE" ]; then
  echo "== no .NET SDK here: running the prepared self-contained build $BUNDLE"
  echo "== fixture checks on $DEVICE"
  PLDRGEN_REPO=$PWD timeout 300 "$BUNDLE" fixtures "$DEVICE" || status=1
  RUN=("$BUNDLE")
else
  cat >&2 <<MSG
gpu-check: this machine has no .NET 10 SDK (dotnet is not on PATH, in \$DOTNET_ROOT, ~/.dotnet, /usr/share/dotnet or
/usr/lib/dotnet) and there is no prepared build at $BUNDLE. The workplace's GPU machines have no .NET and no network.
On a machine with the SDK run:   bench/gpu-check.sh prepare
then bring bench/out/ along (device tool: carry ["bench/out"]) and run bench/gpu-check.sh again here.
MSG
  exit 3
fi

echo "== timing: $SPEC spec, random weights, prompt $PROMPT, decode $DECODE, $DEVICE vs the CPU model"
timeout 300 "${RUN[@]}" timing "$DEVICE" "$PROMPT" "$DECODE" "$SPEC" || status=1
echo "== batched decode: $SPEC spec, random weights, slots $SLOTS, prompt $PROMPT each, $DECODE steps on $DEVICE"
timeout 240 "${RUN[@]}" batched "$DEVICE" "$PROMPT" "$DECODE" "$SPEC" "$SLOTS" || status=1
exit $status
