#!/usr/bin/env bash
# Sets up a fresh machine and runs the main job, the fraud-detection pipeline end to end:
#   bash scripts/demo.sh [EVENTS]
# gen (a realistic card-transaction stream with delayed chargebacks) -> backfill (every feature of
# examples/fraud/pipeline.yaml, point-in-time, with labels joined: the training set) -> train
# (XGBoost, holdout = the latest 20% by event time, registered in data/fraud/registry as the
# production version; prints the holdout AUC) -> check (spec and model) -> backfill again, now
# scoring every event with the production model.
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-1000000}"
bash scripts/setup.sh
bash scripts/build.sh release sluice >/dev/null
mkdir -p data/fraud
echo "== gen: $events transactions"
build/sluice gen fraud --events "$events" --seed 42 --drift-at 0.8 \
  --out data/fraud/events.jsonl --labels-out data/fraud/labels.jsonl
echo "== backfill: the training set"
build/sluice backfill examples/fraud/pipeline.yaml --labels data/fraud/labels.jsonl --threads "$(nproc)" \
  --output data/fraud/features.csv --no-score
echo "== train"
build/sluice train examples/fraud/pipeline.yaml --data data/fraud/features.csv --label is_fraud \
  --alias production --out data/fraud/model.json --predictions data/fraud/holdout_scores.csv \
  --profile-out data/fraud/profile.json
echo "== check"
build/sluice check examples/fraud/pipeline.yaml
echo "== backfill: scoring every event with the production model"
build/sluice backfill examples/fraud/pipeline.yaml --threads "$(nproc)" --output data/fraud/scores.csv
echo "== result"
rows=$(($(wc -l < data/fraud/features.csv) - 1))
echo "features: data/fraud/features.csv ($rows rows, $(head -1 data/fraud/features.csv | tr ',' '\n' | wc -l) columns)"
echo "dead letters: data/fraud/dead.jsonl ($(wc -l < data/fraud/dead.jsonl) records)"
echo "model: data/fraud/model.json, registered in data/fraud/registry (sluice models list --registry data/fraud/registry)"
echo "scores: data/fraud/scores.csv (features and score per event)"
