#!/usr/bin/python3
"""Runs `sluice backfill` on the bad-input corpus (make_corpus.py) and checks the dead-letter contract
(SPEC.md §4, docs/semantics.md "Decoding" and "Admission"):

- the engine exits 0 and no sanitizer reports anything;
- every malformed record is one dead letter with the expected reason and source FILE:LINE;
- every valid record is one output row, in log order, with its event id, time and features
  (count and sum per key, recomputed here), so no bad line disturbed the state or stopped the run;
- records = rows + dead letters, and nothing else appears in either output;
- `record` (or `record_base64`, required when the bytes are not UTF-8) is the record's exact bytes,
  minus only the BOM at the file start and the CR before the newline.

    check_bad_input.py --sluice build/sluice --workdir DIR [--self-check]

--self-check runs the engine once, then corrupts one expectation at a time and exits 0 only if the
checker reports every corruption (a check that cannot fail proves nothing).
"""
import argparse
import base64
import copy
import csv
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPORA = [("jsonl_ms", "events.jsonl"), ("jsonl_iso", "events.jsonl"), ("csv_ms", "events.csv")]
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from testlib import SANITIZER_ENV, SANITIZER_MARKS  # noqa: E402
MAX_SHOWN = 60


class Run:
    """One corpus after the engine ran on it: the input bytes and both outputs, parsed."""

    def __init__(self, name, folder, input_path, expected, data):
        self.name, self.folder, self.input_path = name, folder, input_path
        self.expected, self.data = expected, data
        self.problems = []  # set by Engine
        self.header, self.rows, self.dead = None, [], []


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_engine(sluice, spec, run, timeout, threads=1):
    """Runs backfill into run.folder; returns the (output, dead-letter) paths."""
    out = os.path.join(run.folder, f"out_t{threads}.csv")
    dead = os.path.join(run.folder, f"dead_t{threads}.jsonl")
    for p in (out, dead):
        if os.path.exists(p):
            os.remove(p)
    env = dict(os.environ)
    env.update(SANITIZER_ENV)
    cmd = [sluice, "backfill", spec, "--input", run.input_path, "--output", out, "--dead-letter", dead, "--quiet",
           "--threads", str(threads)]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        run.problems.append(f"engine did not finish within {timeout}s: {' '.join(cmd)}")
        return out, dead
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode != 0:
        run.problems.append(f"exit code {p.returncode} (expected 0): {' '.join(cmd)}\n{err[-3000:]}")
    if any(m in err for m in SANITIZER_MARKS):
        run.problems.append(f"sanitizer report on stderr:\n{err[-6000:]}")
    if threads != 1:
        return out, dead
    if os.path.exists(out):
        with open(out, newline="", encoding="utf-8", errors="surrogateescape") as f:
            table = list(csv.reader(f))
        run.header, run.rows = (table[0], table[1:]) if table else (None, [])
    else:
        run.problems.append("no output CSV written")
    if os.path.exists(dead):
        with open(dead, "rb") as f:
            for i, line in enumerate(f.read().split(b"\n")):
                if not line:
                    continue
                try:
                    run.dead.append(json.loads(line))
                except ValueError as e:
                    run.problems.append(f"dead-letter file line {i + 1} is not JSON ({e}): {line[:200]!r}")
    else:
        run.problems.append("no dead-letter file written")
    return out, dead


def same_bytes(a, b):
    if not (os.path.exists(a) and os.path.exists(b)):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def is_utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def short(b, n=80):
    return repr(b[:n]) + ("..." if len(b) > n else "")


def check_dead_letter(d, e, raw, input_path):
    """Problems with dead letter `d` for expected entry `e` whose raw bytes are `raw`."""
    out = []
    where = f"line {e['line']} ({e['case']})"
    for key in ("reason", "detail", "source"):
        if not isinstance(d.get(key), str) or not d[key]:
            out.append(f"{where}: dead letter lacks a non-empty string '{key}': {str(d)[:200]}")
    src_file = str(d.get("source", "")).rsplit(":", 1)[0]
    if os.path.basename(src_file) != os.path.basename(input_path):
        out.append(f"{where}: source {d.get('source')!r} does not name the input file")
    if d.get("truncated"):
        out.append(f"{where}: marked truncated although {len(raw)} bytes is below the hard cap")
    if "record_base64" in d:
        try:
            got = base64.b64decode(d["record_base64"], validate=True)
        except ValueError as ex:
            return out + [f"{where}: record_base64 is not base64: {ex}"]
        if got != raw:
            out.append(f"{where}: record_base64 is not the raw bytes: got {short(got)}, want {short(raw)}")
    elif not is_utf8(raw):
        out.append(f"{where}: raw bytes are not UTF-8 but there is no record_base64")
    elif not isinstance(d.get("record"), str):
        out.append(f"{where}: no 'record' string")
    else:
        got = d["record"].encode("utf-8", "surrogatepass")
        if got != raw:
            out.append(f"{where}: record is not the raw bytes: got {short(got)} ({len(got)} bytes), "
                       f"want {short(raw)} ({len(raw)} bytes)")
    return out


def row_matches(row, e):
    ts_ok = row[1] in e["ts"] if isinstance(e["ts"], list) else row[1] == e["ts"]
    return row[0] == e["id"] and ts_ok


def check_rows(run, applied):
    """Aligns output rows with the records the engine applied and checks each row's cells."""
    problems = []
    if run.header != ["id", "ts", "u_cnt", "u_sum"]:
        problems.append(f"output header is {run.header}, want ['id', 'ts', 'u_cnt', 'u_sum']")
        return problems
    cnt, total, unchecked = {}, {}, set()
    j = 0
    for e in applied:
        if "id" not in e:  # a bad line the engine applied (already reported): its row is the next one
            j += 1
            continue
        if j < len(run.rows) and len(run.rows[j]) == 4 and row_matches(run.rows[j], e):
            row = run.rows[j]
            j += 1
        else:
            what = (f"line {e['line']} ({e['case']}): no dead letter, but no row "
                    f"(id {e.get('id')!r}, ts {e.get('ts')!r})")
            if j < len(run.rows):
                what += f"; next row is {run.rows[j][:2]}"
            problems.append(what + " — the record disappeared or the engine stopped")
            continue
        user, amount = e.get("user"), e.get("amount")
        if user is None:
            if row[2:] != ["", ""]:
                problems.append(f"line {e['line']}: null key should give empty feature cells, got {row[2:]}")
            continue
        cnt[user] = cnt.get(user, 0) + 1
        if amount == "*":
            unchecked.add(user)
        elif amount is not None:
            total[user] = total.get(user, 0.0) + amount
        if row[2] != str(cnt[user]):
            problems.append(f"line {e['line']}: u_cnt {row[2]!r}, want {cnt[user]} (key {user!r})")
        if user in unchecked:
            continue
        want = total.get(user, 0.0)
        try:
            got = float(row[3])
            if abs(got - want) > 1e-9 * max(1.0, abs(want)):
                problems.append(f"line {e['line']}: u_sum {row[3]!r}, want {want!r} (key {user!r})")
        except ValueError:
            problems.append(f"line {e['line']}: u_sum {row[3]!r} is not a number, want {want!r}")
    for row in run.rows[j:]:
        problems.append(f"unexpected output row {row[:2]} (matches no applied record in order)")
    return problems


def compare(run, expected):
    """All problems of `run` against `expected` (a list of entries), plus info lines."""
    problems, info = list(run.problems), []
    starts = {e["line"]: e for e in expected}
    by_line = {}
    for d in run.dead:
        src = str(d.get("source", ""))
        try:
            line = int(src.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            problems.append(f"dead letter with unparsable source {src!r}: {str(d)[:200]}")
            continue
        if line in by_line:
            problems.append(f"two dead letters for line {line}")
        by_line[line] = d
        if line not in starts or starts[line]["expect"] == "skip":
            problems.append(f"dead letter for line {line}, where no record starts: {str(d)[:300]}")

    applied = []
    records = 0
    for e in expected:
        if e["expect"] == "skip":
            continue
        records += 1
        ok = [e["expect"]] + e.get("also_ok", [])
        d = by_line.get(e["line"])
        actual = d.get("reason") if d else "applied"
        if e.get("also_ok"):
            info.append(f"line {e['line']} ({e['case']}): {actual} (accepted: {'/'.join(ok)})")
        if actual not in ok:
            detail = f" — detail: {d.get('detail')!r}" if d else ""
            problems.append(f"line {e['line']} ({e['case']}): got {actual}, want {'/'.join(ok)}{detail}")
        if d:
            raw = bytes(run.data[e["offset"]:e["offset"] + e["length"]])
            problems += check_dead_letter(d, e, raw, run.input_path)
        else:
            applied.append(e)
            if "id" not in e and "applied" in ok:
                problems.append(f"line {e['line']} ({e['case']}): corpus bug: may be applied but has no row data")
    problems += check_rows(run, applied)
    if records != len(run.rows) + len(run.dead):
        problems.append(f"records ({records}) != rows ({len(run.rows)}) + dead letters ({len(run.dead)})")
    reasons = {}
    for d in run.dead:
        reasons[d.get("reason")] = reasons.get(d.get("reason"), 0) + 1
    info.insert(0, f"{run.name}: {records} records -> {len(run.rows)} rows + {len(run.dead)} dead letters "
                   f"{dict(sorted(reasons.items(), key=str))}")
    return problems, info


def mutations(expected):
    """(description, corrupted copy) pairs, each of which a sound checker must reject."""
    out = []
    first_dead = next(e for e in expected if e["expect"] not in ("applied", "skip") and not e.get("also_ok"))
    first_applied = next(e for e in expected if e["expect"] == "applied" and not e.get("also_ok"))
    first_skip = next((e for e in expected if e["expect"] == "skip"), None)

    def mutate(desc, target, **changes):
        m = copy.deepcopy(expected)
        m[expected.index(target)].update(changes)
        out.append((desc, m))

    other = "schema" if first_dead["expect"] != "schema" else "parse_error"
    mutate(f"reason of line {first_dead['line']} changed to {other}", first_dead, expect=other)
    mutate(f"line {first_applied['line']} expected as a parse_error", first_applied, expect="parse_error")
    mutate(f"record bytes of line {first_dead['line']} shifted by one", first_dead, offset=first_dead["offset"] + 1)
    mutate(f"time cell of line {first_applied['line']} changed", first_applied, ts="1")
    mutate(f"amount of line {first_applied['line']} changed", first_applied, amount=1e6)
    if first_skip:
        mutate(f"empty line {first_skip['line']} expected as a record", first_skip, expect="applied",
               id="x", ts="1")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", required=True, help="the sluice binary to test")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--self-check", action="store_true", help="prove the checker fails on corrupted expectations")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per engine run")
    ap.add_argument("--threads", type=lambda v: [int(x) for x in v.split(",")], default=[1, 3],
                    help="comma-separated --threads values; the first is checked in full, the others must give "
                         "byte-identical outputs (default 1,3)")
    ap.add_argument("--verbose", action="store_true", help="also print the accepted alternatives taken")
    args = ap.parse_args()

    if not (os.path.isfile(args.sluice) and os.access(args.sluice, os.X_OK)):
        print(f"FAIL: sluice binary {args.sluice} does not exist or is not executable.\n"
              "For the ASan/UBSan binary build it with: cmake --preset sanitize && cmake --build build-sanitize "
              "(CI always builds it, so a missing binary is a failure, not a skip)")
        return 1
    corpus_dir = os.path.join(args.workdir, "corpus")
    shutil.rmtree(corpus_dir, ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), "--out", corpus_dir], check=True)

    failed = False
    for name, events in CORPORA:
        folder = os.path.join(corpus_dir, name)
        input_path = os.path.join(folder, events)
        with open(input_path, "rb") as f:
            data = f.read()
        run = Run(name, folder, input_path, load_jsonl(os.path.join(folder, "expected.jsonl")), data)
        spec = os.path.join(HERE, "specs", f"{name}.yaml")
        base = run_engine(args.sluice, spec, run, args.timeout)
        for t in args.threads[1:]:
            # SPEC.md §3: results never depend on --threads; backfill --help: byte-identical output.
            other = run_engine(args.sluice, spec, run, args.timeout, threads=t)
            for what, a, b in zip(("output CSV", "dead letters"), base, other):
                if not same_bytes(a, b):
                    run.problems.append(f"{what} with --threads {t} differ from --threads 1 ({b} vs {a})")
        problems, info = compare(run, run.expected)
        print(info[0])
        if args.verbose and info[1:]:
            print("  " + "\n  ".join(info[1:]))
        if args.self_check:
            for desc, corrupted in mutations(run.expected):
                new = set(compare(run, corrupted)[0]) - set(problems)
                print(f"  self-check: {desc}: {'caught' if new else 'NOT CAUGHT'}")
                if not new:
                    failed = True
                    print(f"FAIL: the checker did not notice: {desc}")
            continue
        for p in problems[:MAX_SHOWN]:
            print(f"  FAIL {p}")
        if len(problems) > MAX_SHOWN:
            print(f"  ... and {len(problems) - MAX_SHOWN} more problems")
        failed |= bool(problems)
    print("FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
