#!/usr/bin/env bash
# The consumer gets the whole pldr command line for its own spec: build it, list its models, and generate with a
# seeded checkpoint of its spec's shape (make_checkpoint.py). Run from anywhere; CI runs it after the tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dotnet build "$here/Consumer.csproj" -c Release --nologo -v quiet
consumer=(dotnet "$here/bin/Release/net10.0/Consumer.dll")
fail() { echo "tests/Consumer: $*" >&2; exit 1; }

models="$("${consumer[@]}" models)"
echo "$models"
[[ "$(tail -n +2 <<<"$models" | awk '{print $1}')" == ConsumerMini ]] \
  || fail "'models' should list exactly ConsumerMini (the consumer's own spec)"

checkpoint="$here/obj/consumer-mini-checkpoint"
python3 "$here/make_checkpoint.py" "$here/consumer-mini.pldr.yaml" "$checkpoint"
run() { "${consumer[@]}" generate --model "$checkpoint" --tokens 5,17,42 --greedy --max-new-tokens 8 --ignore-eos --stats; }
first="$(run 2>"$here/obj/stats.txt")"
echo "generated: $first"
tail -n 1 "$here/obj/stats.txt"
read -r -a ids <<<"$first"
(( ${#ids[@]} == 8 )) || fail "expected 8 generated token ids, got '${first}'"
for id in "${ids[@]}"; do [[ "$id" =~ ^[0-9]+$ ]] && (( id < 300 )) || fail "'$id' is not a token id of a 300-token vocabulary"; done
grep -q '"model":"ConsumerMini"' "$here/obj/stats.txt" || fail "--stats should name ConsumerMini"
[[ "$(run 2>/dev/null)" == "$first" ]] || fail "greedy generation is not repeatable"
echo "tests/Consumer: ok (models lists ConsumerMini; generate ran its own checkpoint twice, same 8 tokens)"
