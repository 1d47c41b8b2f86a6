#!/usr/bin/env python3
"""pldr builds against each other (JIT, NativeAOT, ...): time to first token and decode speed (docs/distribution.md).

Usage: distribution_timings.py [--runs N] [--model DIR --tokens IDS] LABEL:COMMAND ...
  e.g. distribution_timings.py JIT:src/PldrGen.Cli/bin/Release/net10.0/pldr AOT:artifacts/pldr-aot/pldr
       distribution_timings.py "JIT TC=0:env DOTNET_TieredCompilation=0 src/PldrGen.Cli/bin/Release/net10.0/pldr" ...

Without --model each program runs its demo model on the prompt "The import statement". Runs alternate between the
programs (the machine is shared and noisy: compare within one run). Each round, for each program:
  * time to first token: from starting the process to the first generated text on stdout (after the echoed
    prompt), read as it streams, in a 1-token greedy run; also that run's wall time to exit;
  * decode: --max-new-tokens 200 --ignore-eos --greedy --stats: decode_tokens_per_second from the JSON line.
Prints medians, and each program's ratio to the first one as the median of the per-round ratios (rounds run
back to back, so a ratio is steadier than either number when other jobs come and go). Standard library only.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

PROMPT = "The import statement"


def first_token(command, source, echoed):
    """Seconds to the first generated text, and to the process's exit, for a 1-token greedy run."""
    start = time.perf_counter()
    p = subprocess.Popen(command + ["generate", *source, "--greedy", "--max-new-tokens", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out, first = b"", None
    while chunk := os.read(p.stdout.fileno(), 4096):
        out += chunk
        if first is None and len(out.strip()) > echoed:
            first = time.perf_counter() - start
    p.wait()
    total = time.perf_counter() - start
    if p.returncode != 0 or first is None:
        sys.exit(f"{shlex.join(command)}: exit {p.returncode}, output {out!r}")
    return first, total


def decode(command, source):
    """The --stats JSON of a 200-token greedy run."""
    r = subprocess.run(command + ["generate", *source, "--greedy", "--max-new-tokens", "200", "--ignore-eos", "--stats"],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stderr.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", help="checkpoint folder (default: each program's demo model)")
    parser.add_argument("--tokens", help="prompt token ids, for a --model without tokenizer.model")
    parser.add_argument("programs", nargs="+", metavar="LABEL:COMMAND")
    args = parser.parse_args()
    programs = {}
    for spec in args.programs:
        label, _, command = spec.partition(":")
        programs[label] = shlex.split(command)
    source = (["--model", args.model] if args.model else []) + (
        ["--tokens", args.tokens] if args.tokens else ["--prompt", PROMPT])
    echoed = 0 if args.tokens else len(PROMPT)

    results = {label: {k: [] for k in ("first", "total", "load", "prefill", "decode")} for label in programs}
    for command in programs.values():  # one untimed run each, so every program finds the files cached
        first_token(command, source, echoed)
    for _ in range(args.runs):
        for label, command in programs.items():
            first, total = first_token(command, source, echoed)
            stats = decode(command, source)
            r = results[label]
            r["first"].append(first)
            r["total"].append(total)
            r["load"].append(stats["load_ms"])
            r["prefill"].append(stats["prefill_ms"])
            r["decode"].append(stats["decode_tokens_per_second"])

    med = {label: {k: statistics.median(v) for k, v in r.items()} for label, r in results.items()}
    base = next(iter(programs))
    ratio = {label: {k: statistics.median(x / b for x, b in zip(v, results[base][k])) for k, v in r.items()}
             for label, r in results.items()}
    rows = [("time to first token (s)", "first", "{:.3f}"), ("1-token run, start to exit (s)", "total", "{:.3f}"),
            ("load_ms (checkpoint)", "load", "{:.1f}"), ("prefill_ms", "prefill", "{:.1f}"),
            ("decode tokens/s (200 tokens)", "decode", "{:.1f}")]
    print(f"medians of {args.runs} interleaved runs; ratio = median of the per-round program / {base}")
    print(f"{'':32}" + "".join(f"{label:>16}{'ratio':>7}" for label in programs))
    for name, key, fmt in rows:
        print(f"{name:32}" + "".join(f"{fmt.format(med[l][key]):>16}{ratio[l][key]:>7.2f}" for l in programs))
    for label, r in results.items():
        print(f"{label} per round: first token {[round(x, 3) for x in r['first']]} s; load {r['load']} ms; "
              f"prefill {r['prefill']} ms; decode {r['decode']} tok/s")


if __name__ == "__main__":
    main()
