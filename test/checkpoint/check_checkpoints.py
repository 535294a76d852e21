#!/usr/bin/python3
"""Checkpoint/restore equals an uninterrupted run, over generated logs and specs.

    check_checkpoints.py --driver BIN --workdir DIR (--oracle-logs | --fraud --sluice BIN)

--oracle-logs: every variant of test/oracle/make_log.py (all aggregations over every window kind,
late and expired events, TTL resets, bad records), several seeds. --fraud: examples/fraud with
`sluice gen fraud` data. Each case runs checkpoint_driver at random split points with a shard
count before the checkpoint and another after it, once with full checkpoints only and once with
a full checkpoint followed by two incremental ones (--deltas).
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARDS = [(1, 3), (2, 1), (3, 2)]


def run_driver(driver, spec, events, workdir, seed, splits, shards):
    before, after = shards
    ok = True
    for deltas in ([], ["--deltas"]):
        cmd = [driver, spec, events, workdir, "--seed", str(seed), "--splits", str(splits),
               "--shards-before", str(before), "--shards-after", str(after)] + deltas
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            sys.stderr.write(f"FAILED: {' '.join(cmd)}\n{r.stdout}{r.stderr}\n")
            ok = False
            continue
        print(r.stdout.strip())
    return ok


def oracle_logs(args):
    ok = True
    for variant in range(6):
        for seed in range(1, args.seeds + 1):
            case = os.path.join(args.workdir, f"v{variant}_s{seed}")
            subprocess.run([sys.executable, os.path.join(ROOT, "test/oracle/make_log.py"),
                            "--seed", str(seed), "--variant", str(variant), "--events",
                            str(args.events), "--out", case], check=True)
            shards = SHARDS[(variant + seed) % len(SHARDS)]
            ok &= run_driver(args.driver, os.path.join(case, "spec.yaml"),
                             os.path.join(case, "events.jsonl"), case, seed * 31 + variant,
                             args.splits, shards)
    return ok


def fraud(args):
    ok = True
    spec = os.path.join(ROOT, "examples/fraud/pipeline.yaml")
    for seed in range(1, args.seeds + 1):
        case = os.path.join(args.workdir, f"fraud_s{seed}")
        os.makedirs(case, exist_ok=True)
        events = os.path.join(case, "events.jsonl")
        subprocess.run([args.sluice, "gen", "fraud", "--events", str(args.events), "--seed",
                        str(seed), "--users", "150", "--out", events], check=True,
                       capture_output=True)
        ok &= run_driver(args.driver, spec, events, case, seed, args.splits,
                         SHARDS[seed % len(SHARDS)])
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--driver", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--sluice")
    ap.add_argument("--oracle-logs", action="store_true")
    ap.add_argument("--fraud", action="store_true")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--events", type=int, default=1500)
    ap.add_argument("--splits", type=int, default=6)
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    ok = True
    if args.oracle_logs:
        ok &= oracle_logs(args)
    if args.fraud:
        ok &= fraud(args)
    print("checkpoints: all identical" if ok else "checkpoints: DIFFERENCES (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
