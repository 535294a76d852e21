#!/usr/bin/env python3
"""Crash recovery of `sluice run --state` (issue 4): kill -9 at random moments, restart, repeat.

For several seeds: the engine runs over a generated log with checkpoints every 50 ms and is killed
with SIGKILL at random points, then restarted on the same state folder until it finishes. Then:
  * every output line it ever wrote equals the uninterrupted run's line for that event, byte for
    byte (outputs between the last checkpoint and a crash repeat, never differ), and together
    they cover every event (de-duplicated: identical to the uninterrupted run);
  * the final state equals the uninterrupted run's: both engines then read more events (appended
    to their input), and write identical outputs for them;
  * dead letters de-duplicate to the uninterrupted run's.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from testlib import SPEC, check, finish  # noqa: E402



def engine(sluice, spec, inp, out, dead, state):
    return [sluice, "run", spec, "--input", inp, "--output", out, "--dead-letter", dead,
            "--state", state, "--checkpoint-interval", "50ms", "--batch-bytes", "16000",
            "--status-seconds", "0"]


def lines_of(paths):
    out = []
    for p in paths:
        if os.path.exists(p):
            data = open(p).read()
            # A kill can cut the last line short: only whole lines were ever delivered.
            out += data.splitlines() if data.endswith("\n") else data.splitlines()[:-1]
    return out


def reference(sluice, spec, work, events, extra):
    d = os.path.join(work, "ref")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    inp = os.path.join(d, "in.jsonl")
    shutil.copy(events, inp)
    cmd = engine(sluice, spec, inp, os.path.join(d, "out.jsonl"), os.path.join(d, "dead.jsonl"),
                 os.path.join(d, "state"))
    start = time.monotonic()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    with open(inp, "a") as f:
        f.write(extra)
    cmd[cmd.index("--output") + 1] = os.path.join(d, "out_more.jsonl")
    cmd[cmd.index("--dead-letter") + 1] = os.path.join(d, "dead_more.jsonl")
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    return (lines_of([os.path.join(d, "out.jsonl")]), lines_of([os.path.join(d, "dead.jsonl")]),
            lines_of([os.path.join(d, "out_more.jsonl")]), seconds)


def crashing(sluice, spec, work, events, extra, seed, ref_seconds):
    """Kills and restarts until the log is done. A run that ends before its first kill tested
    nothing (the uninterrupted run's time is only an estimate on a loaded machine): it is done
    again from an empty state with kills drawn earlier."""
    rng = random.Random(seed)
    for scale in (0.7, 0.35, 0.15, 0.05):
        result = crashing_once(sluice, spec, work, events, extra, seed, rng, scale * ref_seconds)
        if result[3] > 0:
            break
    return result


def crashing_once(sluice, spec, work, events, extra, seed, rng, kill_before):
    d = os.path.join(work, f"crash{seed}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    inp = os.path.join(d, "in.jsonl")
    shutil.copy(events, inp)
    state = os.path.join(d, "state")
    outs, deads, kills = [], [], 0
    for attempt in range(9):  # eight kills at most, then it may finish
        out, dead = os.path.join(d, f"out{attempt}.jsonl"), os.path.join(d, f"dead{attempt}.jsonl")
        outs.append(out)
        deads.append(dead)
        p = subprocess.Popen(engine(sluice, spec, inp, out, dead, state), stderr=subprocess.DEVNULL)
        try:
            # Within the uninterrupted run's time, so the first attempt is killed unless this
            # run is much faster than that one was (then crashing() starts over, earlier).
            p.wait(timeout=rng.uniform(0.2 * kill_before, min(0.8, kill_before))
                   if attempt < 8 else 600)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
            continue
        if p.returncode != 0:
            sys.exit(f"FAIL: the engine exited {p.returncode} after a restart")
        break
    with open(inp, "a") as f:
        f.write(extra)
    more = os.path.join(d, "out_more.jsonl")
    subprocess.run(engine(sluice, spec, inp, more, os.path.join(d, "dead_more.jsonl"), state),
                   check=True, stderr=subprocess.DEVNULL)
    return lines_of(outs), lines_of(deads), lines_of([more]), kills


def main():
    sluice, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    spec = os.path.join(work, "spec.yaml")
    open(spec, "w").write("\n".join(
        l if not l.startswith("model:") else "output: {include_features: true}"
        for l in open(SPEC).read().splitlines()) + "\n")
    events = os.path.join(work, "ev.jsonl")
    subprocess.run([sluice, "gen", "fraud", "--events", "80000", "--seed", "3", "--out", events,
                    "--quiet"], check=True)
    all_lines = open(events).read().splitlines()
    head, tail = all_lines[:70000], all_lines[70000:]
    open(events, "w").write("\n".join(head) + "\n")
    extra = "\n".join(tail) + "\n"
    ref_out, ref_dead, ref_more, ref_seconds = reference(sluice, spec, work, events, extra)
    by_id = {json.loads(l)["event_id"]: l for l in ref_out}
    for seed in range(3):
        outs, deads, more, kills = crashing(sluice, spec, work, events, extra, seed,
                                            max(ref_seconds, 0.1))
        differ = sum(1 for l in outs if by_id.get(json.loads(l)["event_id"]) != l)
        covered = {json.loads(l)["event_id"] for l in outs}
        check(kills > 0, f"seed {seed}: killed with SIGKILL {kills} time(s)")
        check(differ == 0, f"seed {seed}: every output equals the uninterrupted run's "
                           f"({len(outs)} written, {len(outs) - len(covered)} repeats, {differ} differ)")
        check(covered == set(by_id), f"seed {seed}: de-duplicated outputs cover every event")
        # Each run reads its own copy of the log: compare dead letters without the folder.
        norm = lambda ls, d: sorted(set(l.replace(d, "LOG") for l in ls))
        check(norm(deads, os.path.join(work, f"crash{seed}")) == norm(ref_dead, os.path.join(work, "ref")),
              f"seed {seed}: dead letters de-duplicate to the uninterrupted run's")
        check(more == ref_more and len(more) > 0,
              f"seed {seed}: the recovered state equals the uninterrupted one "
              f"({len(more)} later outputs identical)")
    finish()


if __name__ == "__main__":
    main()
