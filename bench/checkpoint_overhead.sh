#!/usr/bin/env bash
# Checkpoint overhead of `sluice run` (docs/benchmarks.md, "Runtime: checkpoint overhead"): per
# round and per build, the run without --state, then with it (a fresh state directory, checkpoints
# every 1 s), alternated so that both see the same minutes of a noisy machine. Prints per run the
# wall time and the engine's busy_seconds (first to last batch) without / with, and their ratios.
#   bench/checkpoint_overhead.sh LOG SPEC ROUNDS SLUICE...
# e.g. build/sluice gen fraud --events 1500000 --seed 42 --out ev1500k.jsonl
#      grep -v '^model:' examples/fraud/pipeline.yaml > spec_nomodel.yaml
#      bench/checkpoint_overhead.sh ev1500k.jsonl spec_nomodel.yaml 8 /tmp/base/sluice build/sluice
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,9p "$0"; exit 2; }
log=$1 spec=$2 rounds=$3
shift 3
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
run() {  # SLUICE [--state DIR]: prints "wall busy"
  local out
  local bin=$1
  shift
  out=$({ /usr/bin/time -f "TIME %e" "$bin" run "$spec" --input "$log" --output /dev/null \
        --status-seconds 0 "$@" >/dev/null; } 2>&1 || true)
  echo "$(echo "$out" | awk '/^TIME/ {print $2}') $(echo "$out" | grep -o 'busy_seconds=[0-9.]*' | cut -d= -f2)"
}
for r in $(seq "$rounds"); do
  for b in "$@"; do
    read -r w0 b0 < <(run "$b")
    rm -rf "$state/s"
    read -r w1 b1 < <(run "$b" --state "$state/s")
    echo "$b wall $w0/$w1 kept $(awk "BEGIN{printf \"%.3f\", $w0/$w1}")  busy $b0/$b1 kept $(awk "BEGIN{printf \"%.3f\", $b0/$b1}")"
  done
done
