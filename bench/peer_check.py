#!/usr/bin/python3
"""Checks that Sluice and pandas computed the same features, so timing them against each other is fair.

    peer_check.py SLUICE.csv SLUICE_DEAD.jsonl PANDAS_SAMPLE.csv --spec SPEC.yaml --events EVENTS.jsonl

Every row of the pandas sample (pandas_peer.py --sample-out) is compared with Sluice's row for the
same record, feature by feature, within |a - b| <= 1e-9 * max(1, |b|) (docs/semantics.md "Accuracy").
A value where they differ is recomputed exactly (fractions, brute force over the in-order events)
and the side that misses the exact value is named: pandas' rolling var/std add and remove values
in floating point and can lose digits to cancellation, which is pandas' error, not a disagreement
about what the feature is. The check fails if Sluice misses the exact value anywhere, or if Sluice
dead-lettered events (pandas would then have seen a different log).
"""
import argparse
import csv
import json
import math
import os
import sys
from fractions import Fraction

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pandas_peer import UNIT_US, duration_us, key_of  # noqa: E402

TOLERANCE = 1e-9
MAX_ARBITRATED = 200  # beyond this many differences something is plainly wrong


def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= TOLERANCE * max(1.0, abs(b))


def cell(text):
    return float(text) if text != "" else math.nan


def compare(sluice_csv, pandas_sample):
    """(rows sampled, values compared, id mismatches, [(record, feature, sluice, pandas)] differing)."""
    with open(pandas_sample, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        features = next(reader)[2:]
        wanted = {int(row[0]): row for row in reader}
    compared, bad_ids, differ, seen = 0, [], [], set()
    with open(sluice_csv, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        cols = {name: i for i, name in enumerate(next(reader))}
        for index, row in enumerate(reader):
            p = wanted.get(index)
            if p is None:
                continue
            seen.add(index)
            if row[0] != p[1]:
                bad_ids.append(f"record {index}: event id {row[0]} vs pandas {p[1]}")
                continue
            for j, name in enumerate(features):
                a, b = cell(row[cols[name]]), cell(p[2 + j])
                compared += 1
                if not close(a, b):
                    differ.append((index, name, a, b))
    bad_ids += [f"record {i}: no Sluice row" for i in sorted(set(wanted) - seen)]
    return len(wanted), compared, bad_ids, differ


def exact_value(feature, window_values):
    """The feature over the window's values, computed exactly (then rounded once)."""
    xs = [Fraction(x) for x in window_values if not math.isnan(x)]
    agg, n = feature["agg"], len(xs)
    if agg == "count":
        return float(n)
    if agg == "sum":
        return float(sum(xs))
    if n == 0:
        return math.nan
    if agg in ("min", "max"):
        return float(min(xs) if agg == "min" else max(xs))
    mean = sum(xs) / n
    if agg == "mean":
        return float(mean)
    if n < 2:
        return math.nan
    var = sum((x - mean) ** 2 for x in xs) / (n - 1)
    return float(var) if agg == "var" else math.sqrt(var)


def arbitrate(spec_path, events_path, differ):
    """[(record, feature, sluice, pandas, exact, who is wrong)] for each differing value."""
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    features = {f["name"]: f for f in spec["features"]}
    time_field, unit_us = spec["event_time"]["field"], UNIT_US[spec["event_time"]["unit"]]
    last = max(d[0] for d in differ)
    events = []
    with open(events_path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i > last:
                break
            events.append(json.loads(line))
    out = []
    for index, name, a, b in differ:
        ft, e = features[name], events[index]
        key = [e.get(k) for k in key_of(ft)]
        same = [x for x in events[:index + 1] if [x.get(k) for k in key_of(ft)] == key]
        if "window" in ft:
            lo = round(e[time_field] * unit_us) - duration_us(ft["window"])
            same = [x for x in same if round(x[time_field] * unit_us) > lo]
        else:
            same = same[-int(ft["rows"]):]
        of = ft.get("of")
        values = [1.0 if of is None else (math.nan if x.get(of) is None else float(x[of])) for x in same]
        exact = exact_value(ft, values)
        wrong = "pandas" if close(a, exact) and not close(b, exact) else "sluice" if not close(a, exact) else "both?"
        out.append((index, name, a, b, exact, wrong))
    return out


def check(sluice_csv, sluice_dead, pandas_sample, spec_path, events_path):
    with open(sluice_dead, "rb") as f:
        dead = sum(1 for _ in f)
    rows, compared, bad_ids, differ = compare(sluice_csv, pandas_sample)
    judged = arbitrate(spec_path, events_path, differ) if 0 < len(differ) <= MAX_ARBITRATED else []
    pandas_wrong = [j for j in judged if j[5] == "pandas"]
    problems = bad_ids + [f"record {i} {n}: sluice {a!r} pandas {b!r} exact {x!r} ({w} off)"
                          for i, n, a, b, x, w in judged if w != "pandas"]
    if len(differ) > MAX_ARBITRATED:
        problems.append(f"{len(differ)} values differ: too many to recompute exactly")
    if dead:
        problems.append(f"Sluice dead-lettered {dead} events")
    return {"rows_sampled": rows, "values_compared": compared, "differ": len(differ), "dead_letters": dead,
            "pandas_wrong": [f"record {i} {n}: sluice {a!r}, pandas {b!r}, exact {x!r}"
                             for i, n, a, b, x, _ in pandas_wrong],
            "problems": problems, "ok": not problems}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sluice_csv")
    ap.add_argument("sluice_dead")
    ap.add_argument("pandas_sample")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--events", required=True, help="the in-order events both ran on")
    a = ap.parse_args()
    result = check(a.sluice_csv, a.sluice_dead, a.pandas_sample, a.spec, a.events)
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
