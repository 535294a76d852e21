#!/usr/bin/env bash
# Backfill must give byte-identical output (features, labels, dead letters) for every --threads.
# usage: check_determinism.sh SLUICE WORKDIR [EVENTS]
set -euo pipefail
sluice="$1"; work="$2"; events="${3:-60000}"
spec="$(cd "$(dirname "$0")/../.." && pwd)/examples/fraud/pipeline.yaml"
mkdir -p "$work"
"$sluice" gen fraud --events "$events" --seed 7 --drift-at 0.5 --out "$work/ev.jsonl" --labels-out "$work/lab.jsonl" --quiet
for t in 1 2 4; do
  "$sluice" backfill "$spec" --no-score --input "$work/ev.jsonl" --labels "$work/lab.jsonl" --threads "$t" \
    --output "$work/out$t.csv" --dead-letter "$work/dead$t.jsonl" --quiet
done
rows=$(($(wc -l < "$work/out1.csv") - 1))
[ "$rows" -gt $((events * 9 / 10)) ] || { echo "FAIL: only $rows rows for $events events"; exit 1; }
for t in 2 4; do
  cmp "$work/out1.csv" "$work/out$t.csv" || { echo "FAIL: --threads $t features differ from --threads 1"; exit 1; }
  cmp "$work/dead1.jsonl" "$work/dead$t.jsonl" || { echo "FAIL: --threads $t dead letters differ"; exit 1; }
done
echo "PASS: --threads 1, 2, 4 byte-identical ($rows rows, $(wc -l < "$work/dead1.jsonl") dead letters, sha256 $(sha256sum < "$work/out1.csv" | cut -c1-16))"
