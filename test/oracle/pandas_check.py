#!/usr/bin/python3
"""Second, pandas-based oracle for in-order logs (SPEC.md section 3).

    pandas_check.py SPEC.yaml EVENTS.jsonl FEATURES.csv [--max-report N]

For a log whose event times never decrease, with no nulls, no bad records and no gap
long enough to reset a key, every feature that is count/sum/mean/min/max/var/stddev over
a time window (no resolution), a row window or no window, without exclude_current, is
recomputed with pandas rolling windows per key and compared with FEATURES.csv (same
tolerance as compare.py). Time windows use rolling(W, closed='right'), i.e. (t − W, t];
in an in-order log the rows a time window sees up to row i are exactly the events
applied so far. Other features are skipped (listed). Exit 1 on any mismatch.

Shares nothing with features_oracle.py except the tolerance.
"""
import argparse
import csv
import json
import math
import os
import re
import sys

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import within_tolerance  # noqa: E402

DUR_US = {"us": 1, "ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000,
          "d": 86_400_000_000}
UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1}
CHECKED_AGGS = {"count", "sum", "mean", "min", "max", "var", "stddev"}


def duration_us(text):
    number, unit = re.fullmatch(r"(\d+)(us|ms|s|m|h|d)", str(text).strip()).groups()
    return int(number) * DUR_US[unit]


def load_events(spec, events_path):
    """DataFrame of the log with an integer microsecond column `_t` and datetime `_dt`."""
    with open(events_path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    df = pd.DataFrame.from_records(records)
    tf, unit = spec["event_time"]["field"], spec["event_time"]["unit"]
    if unit == "iso8601":
        df["_t"] = pd.to_datetime(df[tf], utc=True).astype("int64") // 1000
    else:
        df["_t"] = [round(float(x) * UNIT_US[unit]) for x in df[tf]]
    df["_dt"] = pd.to_datetime(df["_t"], unit="us")
    return df


def check_preconditions(spec, df, keys):
    """Raise ValueError unless the log is one this check can follow."""
    if (df["_t"].diff().dropna() < 0).any():
        raise ValueError("event times decrease: not an in-order log")
    ttl = duration_us(spec.get("state_ttl", "90d"))
    for key in keys:
        if df[key].isna().any().any():
            raise ValueError(f"null key values in {key}")
        gaps = df.groupby(key if len(key) > 1 else key[0], sort=False)["_t"].diff().dropna()
        if (gaps > ttl).any():
            raise ValueError(f"a gap longer than state_ttl on key {key}: keys would reset")


def checkable(feature):
    return (feature.get("agg") in CHECKED_AGGS and "resolution" not in feature
            and not feature.get("exclude_current", False))


def rolling_of(feature, group, column):
    if "window" in feature:
        series = group.set_index("_dt")[column]
        window = pd.Timedelta(microseconds=duration_us(feature["window"]))
        return series.rolling(window, closed="right", min_periods=1)
    if "rows" in feature:
        return group[column].rolling(int(feature["rows"]), min_periods=1)
    return group[column].expanding(min_periods=1)


def sample_var(a):
    return a.var(ddof=1) if len(a) > 1 else float("nan")


def apply_on(r, fn):
    return r.apply(fn, raw=True)


# pandas' own rolling sum/mean/var add and remove values as the window slides, which
# loses digits once a large value has left the window (seen: var off by 1e-8 relative).
# Those aggregations are applied to each window's values instead (numpy, two-pass var).
AGG_FUNCTIONS = {
    "count": lambda r: r.count(),
    "min": lambda r: r.min(),
    "max": lambda r: r.max(),
    "sum": lambda r: apply_on(r, np.sum),
    "mean": lambda r: apply_on(r, np.mean),
    "var": lambda r: apply_on(r, sample_var),
    "stddev": lambda r: apply_on(r, lambda a: np.sqrt(sample_var(a))),
}


def feature_values(feature, df):
    """The feature for every row of df, by pandas, as a list of floats (NaN = null)."""
    key = feature["key"]   # a column name, or a list of them (composite key)
    column = feature.get("of") or "_one"
    out = pd.Series(float("nan"), index=df.index)
    for _, group in df.groupby(key, sort=False):
        result = AGG_FUNCTIONS[feature["agg"]](rolling_of(feature, group, column))
        out.loc[group.index] = result.to_numpy()
    return out.tolist()


def compare_column(name, expected, cells, limit):
    mismatches = 0
    for i, (b, cell) in enumerate(zip(expected, cells)):
        if math.isnan(b):
            ok = cell == ""
        else:
            ok = cell != "" and within_tolerance(float(cell), b)
        if not ok:
            mismatches += 1
            if mismatches <= limit:
                print(f"row {i + 1} column {name!r}: csv {cell!r} pandas {b!r}")
    return mismatches


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec")
    ap.add_argument("events")
    ap.add_argument("csv")
    ap.add_argument("--max-report", type=int, default=5)
    args = ap.parse_args(argv)
    with open(args.spec, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    df = load_events(spec, args.events)
    df["_one"] = 1.0
    features = [f for f in spec["features"] if "expr" not in f]
    check_preconditions(spec, df, [f["key"] if isinstance(f["key"], list) else [f["key"]]
                                   for f in features])
    with open(args.csv, encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    if len(rows) != len(df):
        print(f"csv has {len(rows)} rows, log has {len(df)} events")
        return 1
    checked = [f for f in features if checkable(f)]
    bad = 0
    for feature in checked:
        j = header.index(feature["name"])
        bad += compare_column(feature["name"], feature_values(feature, df),
                              [row[j] for row in rows], args.max_report)
    skipped = [f["name"] for f in spec["features"] if f not in checked]
    print(f"pandas check: {len(checked)} features x {len(df)} rows, {bad} mismatch(es);"
          f" skipped {len(skipped)} (not plain count/sum/mean/min/max/var/stddev)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
