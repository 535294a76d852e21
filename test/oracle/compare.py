#!/usr/bin/python3
"""Compare an engine's backfill output with the oracle's (SPEC.md section 3 'Accuracy').

    compare.py ENGINE.csv ORACLE.csv [--dead ENGINE_DEAD.jsonl ORACLE_DEAD.jsonl]
               [--spec SPEC.yaml] [--events EVENTS.jsonl] [--max-report N]

Features: same header, same number of rows, same event ids and event times (exact text,
or equal decimals), every numeric cell within |a − b| <= 1e-9 · max(1, |b|) where b is the
oracle's value, and empty (null) cells exactly where the oracle has them.
Dead letters: the same (line, reason) pairs; an oracle record may list `alt_reasons` the
documents equally allow (see features_oracle.Replay.late_alternatives).
Prints the first mismatches with the event's source line; exits 1 on any mismatch.
"""
import argparse
import csv
import decimal
import json
import math
import os
import sys

REL_TOL = 1e-9


def within_tolerance(actual, expected):
    return abs(actual - expected) <= REL_TOL * max(1.0, abs(expected))


def cell_mismatch(actual, expected, exact):
    """None if the cells agree, else a short reason."""
    if actual == expected:
        return None
    if actual == "" or expected == "":
        return "null vs value"
    if exact:
        try:
            if decimal.Decimal(actual) == decimal.Decimal(expected):
                return None
        except decimal.InvalidOperation:
            pass
        return "differs"
    try:
        a, b = float(actual), float(expected)
    except ValueError:
        return "not a number"
    if math.isfinite(a) and within_tolerance(a, b):
        return None
    return f"|diff| = {abs(a - b):.3g}"


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return [], []
    return rows[0], rows[1:]


def read_dead(path):
    """-> {line: (reason, alternative reasons)}"""
    out = {}
    with open(path, encoding="utf-8") as f:
        for text in f:
            if text.strip():
                rec = json.loads(text)
                line = int(str(rec["source"]).rsplit(":", 1)[1])
                out[line] = (rec["reason"], tuple(rec.get("alt_reasons", ())))
    return out


def applied_lines(events_path, dead):
    """Source line of each CSV row: the non-blank lines the oracle did not dead-letter."""
    lines = []
    with open(events_path, encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            if text.strip() and number not in dead:
                lines.append((number, text.rstrip("\n")))
    return lines


class Report:
    def __init__(self, limit):
        self.limit, self.count = limit, 0

    def add(self, message):
        self.count += 1
        if self.count <= self.limit:
            print(message)


def compare_features(engine_csv, oracle_csv, report, events=None, exact_cols=1):
    eh, erows = read_csv(engine_csv)
    oh, orows = read_csv(oracle_csv)
    if eh != oh:
        report.add(f"header differs:\n  engine: {eh}\n  oracle: {oh}")
        return
    if len(erows) != len(orows):
        report.add(f"row count differs: engine {len(erows)}, oracle {len(orows)}")
    for i, (er, orow) in enumerate(zip(erows, orows)):
        for j, name in enumerate(oh):
            got = er[j] if j < len(er) else "<missing>"
            why = cell_mismatch(got, orow[j], exact=j < exact_cols)
            if why:
                where = ""
                if events and i < len(events):
                    where = f" event {events[i][0]}: {events[i][1]}"
                report.add(f"row {i + 1} column {name!r}: engine {got!r} oracle {orow[j]!r}"
                           f" ({why}){where}")
                if j < exact_cols:
                    report.add(f"  rows are out of step from row {i + 1}; stopping feature check")
                    return


def compare_dead(engine_dead, oracle_dead, report):
    eng, ora = read_dead(engine_dead), read_dead(oracle_dead)
    for line in sorted(set(eng) | set(ora)):
        if line not in eng:
            report.add(f"dead letter line {line}: oracle {ora[line][0]!r}, engine applied it")
        elif line not in ora:
            report.add(f"dead letter line {line}: engine {eng[line][0]!r}, oracle applied it")
        elif eng[line][0] != ora[line][0]:
            reason, alternatives = ora[line]
            if eng[line][0] in alternatives:
                print(f"note: dead letter line {line}: engine {eng[line][0]!r}, oracle"
                      f" {reason!r} (both allowed: the key may have been dropped)")
            else:
                report.add(f"dead letter line {line}: engine {eng[line][0]!r} oracle {reason!r}")


def exact_columns(spec_path):
    """event_id (when the spec sets it) and the event time are compared exactly."""
    if not spec_path:
        return 1
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from oracle_spec import Spec
    return 2 if Spec(spec_path).event_id else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("engine_csv")
    ap.add_argument("oracle_csv")
    ap.add_argument("--dead", nargs=2, metavar=("ENGINE_DEAD", "ORACLE_DEAD"))
    ap.add_argument("--events", help="events file, to print the event of a mismatching row")
    ap.add_argument("--spec", help="the spec: its event_id and time columns compare exactly")
    ap.add_argument("--exact-cols", type=int, default=None,
                    help="leading columns compared exactly (default: from --spec, else 1)")
    ap.add_argument("--max-report", type=int, default=10)
    args = ap.parse_args(argv)
    report = Report(args.max_report)
    events = None
    if args.events and args.dead:
        events = applied_lines(args.events, read_dead(args.dead[1]))
    exact = args.exact_cols if args.exact_cols is not None else exact_columns(args.spec)
    compare_features(args.engine_csv, args.oracle_csv, report, events, exact)
    if args.dead:
        compare_dead(args.dead[0], args.dead[1], report)
    if report.count:
        print(f"{report.count} mismatch(es)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
