#!/usr/bin/python3
"""pandas peer for the backfill benchmark: the same features as a Sluice spec, the pandas way.

    pandas_peer.py SPEC.yaml --input EVENTS.jsonl [--sample-every N --sample-out SAMPLE.csv]

Reads the JSONL with pandas.read_json(lines=True), then computes every feature of SPEC per event
with groupby + rolling: a time window W as rolling(W, closed='right') on a datetime index, i.e.
(t - W, t]; `rows: N` as rolling(N). Supported: count, sum, mean, min, max, var, stddev (sample,
ddof=1) with `window` (no `resolution`) or `rows`, without `exclude_current`; anything else is
refused. pandas follows Sluice's log-order semantics only when event times never decrease, so an
out-of-order log is refused too (sort it first; run_benchmarks.py does).

Prints one JSON object: rows, features, read_s (read_json), compute_s (everything after it), total_s.
With --sample-out, writes rows 0, N, 2N, ... and the last row (record index, event id, features;
empty cell for null) after the timing, so the driver can check pandas agrees with Sluice.
"""
import argparse
import csv
import json
import re
import sys
import time

import numpy as np
import pandas as pd
import yaml

DUR_US = {"us": 1, "ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1}
PANDAS_AGG = {"count": "count", "sum": "sum", "mean": "mean", "min": "min", "max": "max", "var": "var",
              "stddev": "std"}


def duration_us(text):
    m = re.fullmatch(r"(\d+)(us|ms|s|m|h|d)", str(text).strip())
    if not m:
        raise SystemExit(f"pandas_peer: cannot read duration {text!r}")
    return int(m.group(1)) * DUR_US[m.group(2)]


def key_of(feature):
    key = feature["key"]
    return tuple(key) if isinstance(key, list) else (key,)


def supported_features(spec):
    """The spec's features, or exit naming the ones pandas cannot compute here."""
    features, refused = spec.get("features", []), []
    for f in features:
        ok = (f.get("agg") in PANDAS_AGG and "expr" not in f and "resolution" not in f
              and not f.get("exclude_current", False) and (("window" in f) != ("rows" in f)))
        if not ok:
            refused.append(f.get("name", "?"))
    if refused:
        raise SystemExit("pandas_peer: features pandas cannot compute this way: " + ", ".join(refused))
    if spec["event_time"]["unit"] not in UNIT_US:
        raise SystemExit("pandas_peer: event_time unit must be s, ms or us")
    return features


def times_us(df, spec):
    raw = df[spec["event_time"]["field"]]
    factor = UNIT_US[spec["event_time"]["unit"]]
    if pd.api.types.is_integer_dtype(raw):
        return raw.to_numpy(dtype=np.int64) * factor
    return np.rint(raw.to_numpy(dtype=np.float64) * factor).astype(np.int64)


def group_codes(df, key):
    """Per row: the key's group number, or -1 when a key field is null."""
    valid = df[list(key)].notna().all(axis=1).to_numpy()
    codes = np.full(len(df), -1, dtype=np.int64)
    if len(key) == 1:
        codes[valid] = pd.factorize(df[key[0]][valid])[0]
    else:
        codes[valid] = df.loc[valid, list(key)].groupby(list(key), sort=False).ngroup().to_numpy()
    return codes


def shape_of(feature):
    return ("window", duration_us(feature["window"])) if "window" in feature else ("rows", int(feature["rows"]))


def compute(df, spec, features):
    """{feature name: values per row, NaN for null}."""
    n = len(df)
    stamps = pd.to_datetime(times_us(df, spec), unit="us")
    out = {f["name"]: np.full(n, np.nan) for f in features}
    by_key = {}
    for f in features:
        by_key.setdefault(key_of(f), []).append(f)
    for key, kfeatures in by_key.items():
        codes = group_codes(df, key)
        rows = np.flatnonzero(codes >= 0)
        # Sorting rows by group (stably, so log order within a group) makes groupby().rolling()
        # return its results in exactly this order, so they can be scattered back by position.
        rows = rows[np.argsort(codes[rows], kind="stable")]
        columns = {"_one": np.ones(len(rows))}
        for f in kfeatures:
            if "of" in f:
                columns[f["of"]] = df[f["of"]].to_numpy(dtype=np.float64)[rows]
        frame = pd.DataFrame(columns, index=stamps[rows])
        grouped = frame.groupby(codes[rows], sort=True)
        for (kind, size), sfeatures in _by_shape(kfeatures).items():
            for column, cfeatures in _by_column(sfeatures).items():
                if kind == "window":
                    roll = grouped[column].rolling(pd.Timedelta(microseconds=size), closed="right", min_periods=1)
                else:
                    roll = grouped[column].rolling(size, min_periods=1)
                for f in cfeatures:
                    out[f["name"]][rows] = getattr(roll, PANDAS_AGG[f["agg"]])().to_numpy()
    return out


def _by_shape(features):
    groups = {}
    for f in features:
        groups.setdefault(shape_of(f), []).append(f)
    return groups


def _by_column(features):
    groups = {}
    for f in features:
        groups.setdefault(f.get("of", "_one"), []).append(f)
    return groups


def write_sample(path, df, spec, features, values, every):
    n = len(df)
    picks = sorted(set(range(0, n, every)) | ({n - 1} if n else set()))
    id_field = spec.get("event_id")
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["record", id_field or ""] + [ft["name"] for ft in features])
        for i in picks:
            cells = [("" if np.isnan(values[ft["name"]][i]) else repr(float(values[ft["name"]][i])))
                     for ft in features]
            w.writerow([i, df[id_field].iat[i] if id_field else ""] + cells)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("spec")
    ap.add_argument("--input", required=True)
    ap.add_argument("--sample-every", type=int, default=97)
    ap.add_argument("--sample-out")
    args = ap.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    features = supported_features(spec)

    t0 = time.perf_counter()
    df = pd.read_json(args.input, lines=True, convert_dates=False, dtype=False)
    t1 = time.perf_counter()
    if (df[spec["event_time"]["field"]].diff().dropna() < 0).any():
        raise SystemExit("pandas_peer: event times decrease; pandas follows log order only for in-order logs")
    t2 = time.perf_counter()
    values = compute(df, spec, features)
    t3 = time.perf_counter()

    if args.sample_out:
        write_sample(args.sample_out, df, spec, features, values, max(1, args.sample_every))
    json.dump({"rows": len(df), "features": len(features), "read_s": round(t1 - t0, 6),
               "compute_s": round(t3 - t2, 6), "total_s": round((t1 - t0) + (t3 - t2), 6)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
