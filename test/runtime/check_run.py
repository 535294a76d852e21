#!/usr/bin/env python3
"""`sluice run` (the streaming engine) on files, pipes and growing files.

  * run over a generated fraud log writes one JSON line per applied event whose features and
    score equal `sluice backfill` of the same log (SPEC.md §3: served = backfilled), and the same
    dead letters; --threads 1 and 3 write byte-identical outputs;
  * from a pipe, records flow through at once: outputs appear while the pipe is still open;
  * with --follow, lines appended to the file are picked up; SIGTERM stops it with exit 0 and
    everything flushed; bad lines become dead letters and the engine keeps going.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from testlib import SPEC, check, finish, run  # noqa: E402




def make_spec(work, model):
    """The example spec writing features, with a model file instead of the registry."""
    lines = []
    for line in open(SPEC).read().splitlines():
        if line.startswith("model:"):
            line = "model: {file: %s}\noutput: {include_features: true}" % model
        lines.append(line)
    path = os.path.join(work, "spec.yaml")
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def setup(sluice, work):
    ev, lab = os.path.join(work, "ev.jsonl"), os.path.join(work, "lab.jsonl")
    run([sluice, "gen", "fraud", "--events", "30000", "--seed", "11", "--out", ev,
         "--labels-out", lab, "--quiet"])
    with open(ev, "a") as f:  # bad records: the engine must dead-letter them and go on
        f.write('{"txn_id":"bad1","ts":"yesterday"}\nnot json at all\n')
    feat, model = os.path.join(work, "train.csv"), os.path.join(work, "model.json")
    run([sluice, "backfill", SPEC, "--input", ev, "--labels", lab, "--output", feat, "--no-score",
         "--quiet", "--dead-letter", os.path.join(work, "d0.jsonl")])
    run([sluice, "train", SPEC, "--data", feat, "--label", "is_fraud", "--out", model,
         "--registry", os.path.join(work, "reg"), "--rounds", "15", "--quiet"])
    return ev, make_spec(work, model)


def compare_with_backfill(sluice, work, ev, spec):
    bf = os.path.join(work, "bf.csv")
    run([sluice, "backfill", spec, "--input", ev, "--output", bf, "--quiet",
         "--dead-letter", os.path.join(work, "bf_dead.jsonl")])
    outs = {}
    for t in (1, 3):
        o = os.path.join(work, f"run{t}.jsonl")
        run([sluice, "run", spec, "--input", ev, "--output", o, "--threads", str(t),
             "--dead-letter", os.path.join(work, f"run_dead{t}.jsonl"), "--batch-bytes", "20000",
             "--metrics-file", os.path.join(work, f"metrics{t}.prom")])
        outs[t] = open(o, "rb").read()
    check(outs[1] == outs[3], "--threads 1 and 3 write byte-identical outputs")
    rows = [json.loads(l) for l in outs[1].decode().splitlines()]
    b = pd.read_csv(bf, float_precision="round_trip")  # the C parser is not exact
    check(len(rows) == len(b), f"one output per applied event ({len(rows)} = {len(b)})")
    names = list(b.columns[2:-1])
    mismatches = 0
    for r, (_, row) in zip(rows, b.iterrows()):
        if r["event_id"] != row["txn_id"] or r["event_time"] != row["ts"]:
            mismatches += 1
            continue
        for n in names + ["score"]:
            a = r["features"][n] if n != "score" else r["score"]
            v = row[n]
            if (a is None) != pd.isna(v) or (a is not None and a != v):
                mismatches += 1
    check(mismatches == 0, f"features and scores equal backfill's ({mismatches} mismatches)")
    check(open(os.path.join(work, "run_dead1.jsonl")).read() ==
          open(os.path.join(work, "bf_dead.jsonl")).read(), "the same dead letters as backfill")
    check_metrics(work, len(rows))


def check_metrics(work, outputs):
    """SPEC.md §6 metrics: valid text format (promtool), and counts that match the files."""
    path = os.path.join(work, "metrics1.prom")
    text = open(path).read()
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    check(r.returncode == 0, "promtool accepts the metrics file " + (r.stdout + r.stderr).strip())
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    dead = [json.loads(l) for l in open(os.path.join(work, "run_dead1.jsonl"))]
    check(samples.get('sluice_events_total{result="applied"}') == outputs,
          "sluice_events_total{result=applied} equals the outputs written")
    check(samples.get('sluice_events_total{result="dead_letter"}') == len(dead),
          "sluice_events_total{result=dead_letter} equals the dead letters written")
    by_reason = {}
    for d in dead:
        by_reason[d["reason"]] = by_reason.get(d["reason"], 0) + 1
    got = {k.split('"')[1]: v for k, v in samples.items()
           if k.startswith("sluice_dead_letters_total")}
    check(got == by_reason, f"sluice_dead_letters_total by reason matches the file {by_reason}")
    check(samples.get("sluice_event_latency_seconds_count") == outputs,
          "every output has a latency observation")
    check(any(k.startswith("sluice_scores_total{") and v == outputs for k, v in samples.items()),
          "sluice_scores_total counts every scored event")


def wait_lines(path, n, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and sum(1 for _ in open(path)) >= n:
            return True
        time.sleep(0.05)
    return False


def streaming(sluice, work, ev, spec):
    lines = open(ev).read().splitlines()[:200]
    out = os.path.join(work, "pipe.jsonl")
    p = subprocess.Popen([sluice, "run", spec, "--input", "-", "--output", out, "--dead-letter",
                          os.path.join(work, "pipe_dead.jsonl")], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdin.write("\n".join(lines[:50]) + "\n")
    p.stdin.flush()
    check(wait_lines(out, 50, 5), "from a pipe, outputs appear while the pipe is still open")
    p.stdin.write("\n".join(lines[50:]) + "\n")
    p.stdin.close()
    code = p.wait(timeout=30)
    check(code == 0 and sum(1 for _ in open(out)) == 200, "end of the pipe: every event, exit 0")

    grow, out2 = os.path.join(work, "grow.jsonl"), os.path.join(work, "follow.jsonl")
    open(grow, "w").write("\n".join(lines[:100]) + "\n")
    p = subprocess.Popen([sluice, "run", spec, "--input", grow, "--follow", "--output", out2,
                          "--dead-letter", os.path.join(work, "follow_dead.jsonl")],
                         stderr=subprocess.PIPE, text=True)
    check(wait_lines(out2, 100, 5), "--follow: the file's lines are scored")
    with open(grow, "a") as f:
        f.write("\n".join(lines[100:]) + "\n" + "{broken\n")
    check(wait_lines(out2, 200, 5), "--follow: appended lines are picked up")
    check(wait_lines(os.path.join(work, "follow_dead.jsonl"), 1, 5),
          "--follow: a bad appended line is dead-lettered at once")
    time.sleep(0.2)
    check(p.poll() is None, "--follow: still running at the end of the file")
    p.send_signal(signal.SIGTERM)
    code = p.wait(timeout=10)
    err = p.stderr.read()
    check(code == 0 and "stopped on signal" in err, "SIGTERM: a clean stop with exit 0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    ev, spec = setup(a.sluice, a.workdir)
    compare_with_backfill(a.sluice, a.workdir, ev, spec)
    streaming(a.sluice, a.workdir, ev, spec)
    finish()


if __name__ == "__main__":
    main()
