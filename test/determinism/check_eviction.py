#!/usr/bin/env python3
"""Idle keys leave memory without changing any result (docs/semantics.md, Admission).

Keys are active in successive hours over ~100 hours with state_ttl 75m. Backfilled in one big chunk
(no sweep can run) and in tiny chunks (sweeps run as the stream moves on), the CSVs must be
byte-identical, and the tiny-chunk run must end with far fewer live keys."""
import os
import random
import re
import subprocess
import sys

SPEC = """name: eviction
event_time: {field: ts, unit: s}
allowed_lateness: 10m
state_ttl: 75m
fields: {k: string, x: double, m: string}
features:
  - {name: c30m, agg: count, key: k, window: 30m}
  - {name: s30m, agg: sum, of: x, key: k, window: 30m}
  - {name: last_x, agg: last, of: x, key: k, exclude_current: true}
  - {name: gap, agg: time_since_last, key: k}
  - {name: d1h, agg: count_distinct, of: m, key: k, window: 1h, resolution: 10m}
  - {name: mk, agg: count, key: [k, m], window: 20m}
"""


def run(sluice, work, chunk):
    out = os.path.join(work, f"out_{chunk}.csv")
    p = subprocess.run([sluice, "backfill", os.path.join(work, "spec.yaml"), "--input", os.path.join(work, "ev.jsonl"),
                        "--output", out, "--dead-letter", os.path.join(work, f"dead_{chunk}.jsonl"),
                        "--chunk-bytes", str(chunk)], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        sys.exit(f"FAIL: backfill exited {p.returncode}: {p.stderr}")
    keys = int(re.search(r"(\d+) keys", p.stderr).group(1))
    return open(out, "rb").read(), keys


def main():
    sluice, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "spec.yaml"), "w") as f:
        f.write(SPEC)
    rng = random.Random(3)
    t = 0
    distinct = set()
    with open(os.path.join(work, "ev.jsonl"), "w") as f:
        for i in range(20000):
            t += rng.randint(0, 36)
            hour = t // 3600
            k = f"k{hour}_{rng.randint(0, 9)}"  # keys of this hour...
            if hour > 0 and rng.random() < 0.05:
                k = f"k{hour - 1}_{rng.randint(0, 9)}"  # ...or back after an idle gap shorter than the TTL
            ts = max(0, t - rng.randint(0, 300)) if rng.random() < 0.05 else t  # some disorder
            m = f"m{rng.randint(0, 5)}"
            distinct.update({("k", k), ("km", k, m)})
            f.write(f'{{"ts":{ts},"k":"{k}","x":{rng.randint(-50, 50) / 4},"m":"{m}"}}\n')
    big, _ = run(sluice, work, 1 << 30)
    small, keys_small = run(sluice, work, 4096)
    if big != small:
        sys.exit("FAIL: results depend on the chunk size")
    oracle_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "oracle")
    oracle_csv = os.path.join(work, "oracle.csv")
    subprocess.run([sys.executable, os.path.join(oracle_dir, "features_oracle.py"), os.path.join(work, "spec.yaml"),
                    "--input", os.path.join(work, "ev.jsonl"), "--output", oracle_csv,
                    "--dead-letter", os.path.join(work, "oracle_dead.jsonl")], check=True, timeout=600)
    cmp = subprocess.run([sys.executable, os.path.join(oracle_dir, "compare.py"), os.path.join(work, "out_4096.csv"),
                          oracle_csv, "--spec", os.path.join(work, "spec.yaml"),
                          "--dead", os.path.join(work, "dead_4096.jsonl"), os.path.join(work, "oracle_dead.jsonl")],
                         capture_output=True, text=True)
    if cmp.returncode != 0:
        sys.exit("FAIL: with idle keys swept out of memory the engine disagrees with the oracle:\n" + cmp.stdout[-3000:])
    if not keys_small * 5 < len(distinct):
        sys.exit(f"FAIL: expected sweeps to drop idle keys: {keys_small} live of {len(distinct)} distinct")
    print(f"PASS: identical output with sweeps mid-log; {keys_small} keys live at the end of {len(distinct)}")


if __name__ == "__main__":
    main()
