#!/usr/bin/python3
"""Runs the engine's backfill against the Python oracles.

    run_oracle_tests.py --sluice build/sluice --workdir DIR [--seeds N] [--events N]
                        [--variants 0,1,...] [--threads N]
    run_oracle_tests.py --self-test [--workdir DIR] [--seeds N] [--events N]

Engine mode: for each seed and variant, make_log.py writes an adversarial case, the engine
runs `sluice backfill SPEC --input EVENTS --output OUT.csv --dead-letter DEAD.jsonl --quiet`
(exit 0 expected), features_oracle.py computes the expected output, and compare.py checks
features and dead letters. Per seed, an in-order case is also checked by pandas_check.py.
One summary line per case; exit 1 if any case fails.

Self-test mode needs no engine: the oracle against the hand-computed cases in
cases/hand_cases.py, compare.py and pandas_check.py against perturbed files (they must be
able to fail), pandas against the oracle on in-order data, generator determinism and
coverage of every dead-letter reason.
"""
import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "cases"))
import compare  # noqa: E402
import features_oracle  # noqa: E402
import make_log  # noqa: E402

DEAD_REASONS = {"late", "expired", "bad_time", "schema", "parse_error"}


def run_oracle_files(spec, events, out_dir):
    """Oracle output for a case: (csv path, dead-letter path)."""
    csv_path = os.path.join(out_dir, "oracle.csv")
    dead_path = os.path.join(out_dir, "oracle_dead.jsonl")
    code = features_oracle.main([spec, "--input", events, "--output", csv_path,
                                 "--dead-letter", dead_path])
    if code != 0:
        raise RuntimeError(f"oracle failed on {spec}")
    return csv_path, dead_path


def quietly(fn, *args):
    """(exit code, printed text) of a main()-style function."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = fn(list(args))
    return code, buf.getvalue()


def pandas_check(spec, events, csv_path):
    """(exit code, output) of pandas_check.py, run by the same interpreter."""
    proc = subprocess.run([sys.executable, os.path.join(HERE, "pandas_check.py"), spec,
                           events, csv_path], capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


# ----------------------------------------------------------------------------- engine mode

def run_engine(args, spec, events, out_dir):
    csv_path = os.path.join(out_dir, "engine.csv")
    dead_path = os.path.join(out_dir, "engine_dead.jsonl")
    cmd = [args.sluice, "backfill", spec, "--input", events, "--output", csv_path,
           "--dead-letter", dead_path, "--quiet"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.chunk_bytes:
        cmd += ["--chunk-bytes", str(args.chunk_bytes)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"engine exit {proc.returncode}: {' '.join(cmd)}\n{proc.stderr}")
    return csv_path, dead_path


def engine_case(args, name, seed, variant, in_order):
    out_dir = os.path.join(args.workdir, name)
    spec, events = make_log.write_case(out_dir, seed, variant, args.events, in_order)
    try:
        engine_csv, engine_dead = run_engine(args, spec, events, out_dir)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        print(f"FAIL {name}: {err}")
        return False
    oracle_csv, oracle_dead = run_oracle_files(spec, events, out_dir)
    code, text = quietly(compare.main, engine_csv, oracle_csv, "--dead", engine_dead,
                         oracle_dead, "--events", events, "--spec", spec)
    ok = code == 0
    if in_order:
        pcode, ptext = pandas_check(spec, events, engine_csv)
        text += ptext
        ok = ok and pcode == 0
    rows = sum(1 for _ in open(oracle_csv)) - 1
    print(f"{'PASS' if ok else 'FAIL'} {name}: {rows} rows, "
          f"{sum(1 for _ in open(oracle_dead))} dead letters ({out_dir})")
    if not ok:
        print("  " + text.strip().replace("\n", "\n  "))
    return ok


def engine_mode(args):
    variants = [int(v) for v in args.variants.split(",")] if args.variants else \
        list(range(len(make_log.VARIANTS)))
    results = []
    for seed in range(args.seeds):
        for v in variants:
            name = f"seed{seed}_v{v}_{make_log.VARIANTS[v]['name']}"
            results.append(engine_case(args, name, seed, v, False))
        results.append(engine_case(args, f"seed{seed}_in_order", seed, 0, True))
    print(f"{sum(results)}/{len(results)} cases passed")
    return 0 if all(results) else 1


# ----------------------------------------------------------------------------- self-test

def check_hand_case(case, work):
    """Oracle vs the hand-computed rows and dead letters of one case; -> list of errors."""
    out_dir = os.path.join(work, case["name"])
    os.makedirs(out_dir, exist_ok=True)
    spec, events = os.path.join(out_dir, "spec.yaml"), os.path.join(out_dir, "events.jsonl")
    with open(spec, "w") as f:
        f.write(case["spec"])
    with open(events, "w") as f:
        f.write("\n".join(case["events"]) + "\n")
    csv_path, dead_path = run_oracle_files(spec, events, out_dir)
    header, rows = compare.read_csv(csv_path)
    errors = []
    if len(rows) != len(case["rows"]):
        errors.append(f"{len(rows)} rows, expected {len(case['rows'])}")
    for i, (row, want) in enumerate(zip(rows, case["rows"])):
        if set(want) != set(header):
            errors.append(f"row {i + 1}: expected columns {sorted(want)} != {header}")
        for col, expected in want.items():
            got = row[header.index(col)] if col in header else "<no column>"
            if not cell_matches(got, expected):
                errors.append(f"row {i + 1} {col}: oracle {got!r}, by hand {expected!r}")
    errors += dead_errors(compare.read_dead(dead_path), case["dead"])
    return errors


def cell_matches(got, expected):
    if expected is None:
        return got == ""
    if isinstance(expected, str):
        return got == expected
    return got != "" and abs(float(got) - expected) <= 1e-12 * max(1.0, abs(expected))


def dead_errors(got, expected):
    want = {line: (r, ()) if isinstance(r, str) else (r[0], tuple(r[1]))
            for line, r in expected.items()}
    if got == want:
        return []
    return [f"dead letters {sorted(got.items())} != by hand {sorted(want.items())}"]


def perturbed_copy(path, out_path, edit):
    """Copy of a CSV with one cell changed by edit(header, rows)."""
    header, rows = compare.read_csv(path)
    edit(header, rows)
    with open(out_path, "w") as f:
        f.write("\n".join(",".join(r) for r in [header] + rows) + "\n")


def check_compare_can_fail(csv_path, dead_path, spec, work):
    """compare.py must accept identical files and reject a 1e-8 error, a lost null and a
    changed dead-letter reason."""
    errors = []
    if quietly(compare.main, csv_path, csv_path, "--dead", dead_path, dead_path)[0] != 0:
        errors.append("compare.py rejects identical files")
    header, rows = compare.read_csv(csv_path)
    num = next((i, j) for i, r in enumerate(rows) for j in range(2, len(r))
               if r[j] not in ("", "0"))
    empty = next((i, j) for i, r in enumerate(rows) for j in range(2, len(r)) if r[j] == "")

    def nudge(h, rs):
        x = float(rs[num[0]][num[1]])
        rs[num[0]][num[1]] = repr(x + 1e-8 * max(1.0, abs(x)))

    def fill(h, rs):
        rs[empty[0]][empty[1]] = "0"

    for label, edit in (("a 1e-8 relative error", nudge), ("a value for a null", fill)):
        bad = os.path.join(work, "perturbed.csv")
        perturbed_copy(csv_path, bad, edit)
        if quietly(compare.main, bad, csv_path, "--spec", spec)[0] == 0:
            errors.append(f"compare.py accepts {label}")
    bad_dead = os.path.join(work, "perturbed_dead.jsonl")
    with open(dead_path) as f, open(bad_dead, "w") as g:
        lines = f.readlines()
        first = json.loads(lines[0])
        first["reason"] = "schema" if first["reason"] != "schema" else "late"
        g.write(json.dumps(first) + "\n" + "".join(lines[1:]))
    if quietly(compare.main, csv_path, csv_path, "--dead", bad_dead, dead_path)[0] == 0:
        errors.append("compare.py accepts a changed dead-letter reason")
    return errors


def check_in_order(args, work, seed):
    """pandas and the brute-force oracle must agree on an in-order log; pandas must
    reject a perturbed CSV."""
    out_dir = os.path.join(work, f"in_order_{seed}")
    spec, events = make_log.write_case(out_dir, seed, 0, args.events, in_order=True)
    csv_path, dead_path = run_oracle_files(spec, events, out_dir)
    errors = []
    if os.path.getsize(dead_path):
        errors.append(f"in-order case {seed} has dead letters")
    code, text = pandas_check(spec, events, csv_path)
    if code != 0:
        errors.append(f"pandas disagrees with the oracle (seed {seed}):\n{text}")
    header, rows = compare.read_csv(csv_path)
    j = header.index("u_var_w1")
    i = next(i for i, r in enumerate(rows) if r[j] not in ("", "0"))
    bad = os.path.join(out_dir, "perturbed.csv")
    perturbed_copy(csv_path, bad, lambda h, rs: rs[i].__setitem__(j, repr(float(rs[i][j]) * 1.001)))
    if pandas_check(spec, events, bad)[0] == 0:
        errors.append("pandas_check.py accepts a perturbed variance")
    return errors


def check_generator(args, work):
    """Every variant: deterministic files, oracle runs, every dead-letter reason occurs."""
    errors, reasons = [], set()
    for v, variant in enumerate(make_log.VARIANTS):
        a = make_log.write_case(os.path.join(work, f"gen{v}a"), 7, v, args.events)
        b = make_log.write_case(os.path.join(work, f"gen{v}b"), 7, v, args.events)
        if any(open(x).read() != open(y).read() for x, y in zip(a, b)):
            errors.append(f"variant {v}: same seed gave different files")
        _, dead = run_oracle_files(*a, os.path.dirname(a[0]))
        reasons |= set(compare.read_dead(dead)[line][0] for line in compare.read_dead(dead))
    if reasons != DEAD_REASONS:
        errors.append(f"generated cases lack dead-letter reasons {DEAD_REASONS - reasons}")
    return errors, a


def self_test(args):
    import hand_cases
    work = args.workdir or tempfile.mkdtemp(prefix="oracle_self_test_")
    os.makedirs(work, exist_ok=True)
    failures = 0
    for case in hand_cases.CASES:
        failures += report(f"hand case {case['name']}", check_hand_case(case, work))
    gen_errors, (spec, events) = check_generator(args, work)
    failures += report("generator: determinism, every variant, every reason", gen_errors)
    csv_path, dead_path = run_oracle_files(spec, events, os.path.dirname(spec))
    failures += report("compare.py can fail", check_compare_can_fail(csv_path, dead_path,
                                                                     spec, work))
    for seed in range(args.seeds):
        failures += report(f"pandas vs oracle, in-order seed {seed}",
                           check_in_order(args, work, seed))
    if not args.workdir:
        shutil.rmtree(work)
    print(f"self-test: {'FAIL' if failures else 'PASS'} ({failures} failing check(s))")
    return 1 if failures else 0


def report(name, errors):
    print(f"{'FAIL' if errors else 'PASS'} {name}")
    for e in errors[:10]:
        print("  " + e.replace("\n", "\n  "))
    return 1 if errors else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sluice", help="path to the sluice binary")
    ap.add_argument("--workdir", help="where cases and outputs go")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--events", type=int, default=800)
    ap.add_argument("--variants", help="comma-separated variant numbers (default: all)")
    ap.add_argument("--threads", type=int, help="passed to sluice backfill --threads")
    ap.add_argument("--chunk-bytes", type=int,
                    help="passed to sluice backfill --chunk-bytes (small chunks make the engine sweep "
                         "idle keys out of memory mid-log, which must not change any result)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per engine run")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test(args)
    if not args.sluice or not args.workdir:
        ap.error("--sluice and --workdir are required (or --self-test)")
    os.makedirs(args.workdir, exist_ok=True)
    return engine_mode(args)


if __name__ == "__main__":
    sys.exit(main())
