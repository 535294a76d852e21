#!/usr/bin/env python3
"""The CLI contract of SPEC.md §1: exit codes (0 ok, 1 runtime failure, 2 usage or spec error),
--help on every command, spec errors naming file, line and key."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "fraud", "pipeline.yaml")


def run(sluice, *args):
    p = subprocess.run([sluice, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    sluice = sys.argv[1]
    failures = []

    def expect(what, got_code, want_code, text="", want_text=""):
        ok = got_code == want_code and want_text in text
        print(("PASS " if ok else "FAIL ") + what + ("" if ok else f": exit {got_code}, output {text[:300]!r}"))
        if not ok:
            failures.append(what)

    for cmd in ["gen", "check", "backfill", "predict"]:
        code, out, err = run(sluice, cmd, "--help")
        expect(f"{cmd} --help", code, 0, out, "usage: sluice " + cmd)
    code, out, err = run(sluice)
    expect("no command", code, 2, err, "usage")
    code, out, err = run(sluice, "frobnicate")
    expect("unknown command", code, 2, err, "unknown command")
    code, out, err = run(sluice, "check", EXAMPLE, "--no-model")
    expect("check example (model skipped)", code, 0, out, "ok")
    if not os.path.exists(os.path.join(ROOT, "data", "fraud", "registry")):
        code, out, err = run(sluice, "check", EXAMPLE)
        expect("check example before any model is trained", code, 2, err, "model: no registry at")
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.yaml")
        with open(bad, "w") as f:
            f.write("name: x\nevent_time: {field: ts}\nfields: {k: string}\nfeatures:\n"
                    "  - {name: c, agg: count, key: k, windw: 1h}\n")
        code, out, err = run(sluice, "check", bad)
        expect("check bad spec names file:line: key", code, 2, err, bad + ":5: features[0].windw: unknown key")
        code, out, err = run(sluice, "backfill", bad, "--output", os.path.join(d, "o.csv"))
        expect("backfill bad spec", code, 2, err, ":5:")
        code, out, err = run(sluice, "backfill", EXAMPLE)
        expect("backfill without --output", code, 2, err, "--output")
        code, out, err = run(sluice, "backfill", EXAMPLE, "--input", os.path.join(d, "nope.jsonl"),
                             "--output", os.path.join(d, "o.csv"), "--dead-letter", os.path.join(d, "d.jsonl"),
                             "--no-score")
        expect("backfill missing input is a runtime failure", code, 1, err, "cannot open")
        code, out, err = run(sluice, "backfill", EXAMPLE, "--threads", "0", "--output", "x.csv")
        expect("backfill --threads 0", code, 2, err, "--threads")
        code, out, err = run(sluice, "gen", "fraud", "--events", "-5", "--out", os.path.join(d, "e.jsonl"))
        expect("gen negative events", code, 2, err, "--events")
        code, out, err = run(sluice, "gen", "fraud", "--events", "1000", "--out", os.path.join(d, "e.jsonl"), "--quiet")
        # Silence is the point: any output at all fails (expect() only checks a substring).
        silent = code == 0 and not (err + out).strip()
        print(("PASS " if silent else "FAIL ") + "gen --quiet is silent" +
              ("" if silent else f": exit {code}, output {(err + out)[:300]!r}"))
        if not silent:
            failures.append("gen --quiet is silent")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
