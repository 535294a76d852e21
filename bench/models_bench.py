#!/usr/bin/python3
"""Tree-ensemble scoring benchmark: trains the benchmark models with python3-xgboost (cached in
--workdir), then runs build/bench/bench_models (Sluice vs libxgboost inplace predict, nthread=1,
same models and rows) with --repetitions repetitions and prints median ns per row and the ratio
as a markdown table for docs/benchmarks.md.

    models_bench.py --bench build/bench/bench_models [--workdir DIR] [--repetitions 5]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import xgboost as xgb

MODELS = [("trees100_depth6", 100, 6), ("trees1000_depth8", 1000, 8)]


def train(workdir, name, trees, depth):
    path = os.path.join(workdir, name + ".json")
    if os.path.exists(path):
        return path
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50000, 20)).astype(np.float32)
    X[rng.random(size=X.shape) < 0.1] = np.nan
    z = np.nan_to_num(X) @ rng.normal(size=20) + np.sin(3 * np.nan_to_num(X[:, 0])) * 2
    y = (z + rng.normal(size=len(z)) > 0).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": depth, "eta": 0.1, "nthread": 2,
              "tree_method": "hist", "seed": 1}
    xgb.train(params, xgb.DMatrix(X, y), trees).save_model(path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True)
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "sluice-models-bench"))
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    paths = [train(args.workdir, *m) for m in MODELS]
    cmd = [args.bench, *paths, f"--benchmark_repetitions={args.repetitions}",
           "--benchmark_report_aggregates_only=true", "--benchmark_format=json"]
    print(" ".join(cmd), file=sys.stderr)
    p = subprocess.run(cmd, capture_output=True, text=True)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        return 1
    results = json.loads(p.stdout)
    median = {}
    for b in results["benchmarks"]:
        if b.get("aggregate_name") == "median":
            median[b["run_name"]] = 1e9 / b["items_per_second"]
    print("| model | rows per call | Sluice ns/row | libxgboost ns/row | speed-up | target |")
    print("|---|---|---|---|---|---|")
    for name, _, _ in MODELS:
        for kind in ["row", "batch64", "batch256", "batch1024"]:
            ours = median[f"sluice/{name}.json/{kind}"]
            theirs = median[f"xgboost/{name}.json/{kind}"]
            rows = "1" if kind == "row" else kind[5:]
            target = 10 if kind == "row" else 3
            met = "met" if theirs / ours >= target else "not met"
            print(f"| {name} | {rows} | {ours:.0f} | {theirs:.0f} | {theirs / ours:.1f}x | "
                  f">= {target}x ({met}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
