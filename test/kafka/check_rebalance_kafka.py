#!/usr/bin/env python3
"""Two `sluice run` engines in one consumer group, the second joining mid-stream (issue 4).

The engine waits for a batch's outputs while it processes the next one and commits offsets in
the background (docs/operations.md, micro-batches). When a rebalance takes partitions away, the
engine must first deliver what it wrote and commit it, so the partitions' next owner starts
exactly after it. kcat produces a log in slices while engine A runs; engine B joins halfway; each
engine writes its own output topic. Then:

  * every record is accounted for: outputs of A and B plus dead letters hold every event id;
  * neither engine outputs an event twice;
  * both engines keep running through the rebalance (a commit refused with REBALANCE_IN_PROGRESS
    used to stop the engine) and stop with exit 0; both scored events.
Events output by both engines are counted, not refused: the engine delivers and commits before
it lets partitions go, but librdkafka 2.0.2's mock refuses every OffsetCommit while the group is
joining, which is when the revoke comes (a real broker accepts commits of the current
generation then), so B reads again what A delivered after its last commit (at-least-once).
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from testlib import KafkaDev, check, finish, kafka_spec  # noqa: E402

EVENTS = 8000
SLICES = 16


def kcat_read(bootstrap, topic):
    r = subprocess.run(["kcat", "-C", "-e", "-q", "-b", bootstrap, "-t", topic, "-o", "beginning",
                        "-f", "%s\n"], capture_output=True, text=True, timeout=60)
    return [json.loads(l) for l in r.stdout.splitlines() if l]


def produce(bootstrap, path, lines):
    with open(path, "w") as f:
        for l in lines:
            f.write(json.loads(l)["user_id"] + "\t" + l + "\n")
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "events", "-K", "\t", "-l", path],
                   check=True, timeout=60)


def main():
    sluice, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    with KafkaDev(sluice, ["events:6", "out_a:1", "out_b:1", "dead:1"],
                  stderr_path=os.path.join(work, "kafka-dev.stderr")) as cluster:
        run_test(sluice, work, cluster.bootstrap)
    finish()


def run_test(sluice, work, bootstrap):
    ev = os.path.join(work, "ev.jsonl")
    subprocess.run([sluice, "gen", "fraud", "--events", str(EVENTS), "--seed", "8", "--out", ev,
                    "--quiet"], check=True)
    lines = open(ev).read().splitlines()
    ids = [json.loads(l)["txn_id"] for l in lines]
    # Small batches, so several are in flight when the rebalance comes.
    common = {"max.partition.fetch.bytes": "16384"}
    err = open(os.path.join(work, "run.stderr"), "w")
    engines = []
    for name in ("a", "b"):
        spec = kafka_spec(os.path.join(work, f"{name}.yaml"), bootstrap, "rebalance", common,
                          output=f"out_{name}", dead="dead")
        engines.append([sluice, "run", spec, "--batch-bytes", "8000", "--status-seconds", "0"])
    a = subprocess.Popen(engines[0], stderr=err)
    b = None
    per = len(lines) // SLICES
    for i in range(SLICES):
        part = lines[i * per:] if i == SLICES - 1 else lines[i * per:(i + 1) * per]
        produce(bootstrap, os.path.join(work, f"slice{i}.txt"), part)
        if i == SLICES // 2:
            b = subprocess.Popen(engines[1], stderr=err)  # the group rebalances
        time.sleep(0.4)
    end = time.time() + 120
    while time.time() < end:
        seen = kcat_read(bootstrap, "out_a") + kcat_read(bootstrap, "out_b")
        dead = kcat_read(bootstrap, "dead")
        if len(seen) + len(dead) >= len(lines):
            break
        time.sleep(2)
    time.sleep(3)  # repeats, if any, come after the last new output
    for p in (a, b):
        p.send_signal(signal.SIGTERM)
    codes = [p.wait(timeout=60) for p in (a, b)]
    check(codes == [0, 0], f"both engines stop on SIGTERM with exit 0 ({codes})")
    out_a, out_b = kcat_read(bootstrap, "out_a"), kcat_read(bootstrap, "out_b")
    dead = kcat_read(bootstrap, "dead")
    got = [o["event_id"] for o in out_a + out_b] + [json.loads(d["record"])["txn_id"] for d in dead]
    check(set(got) == set(ids), f"every event is an output or a dead letter ({len(set(got))} of "
                                f"{len(ids)}: {len(out_a)} from A, {len(out_b)} from B, "
                                f"{len(dead)} dead letters)")
    for name, outs in (("A", out_a), ("B", out_b)):
        mine = [o["event_id"] for o in outs]
        check(len(mine) == len(set(mine)), f"engine {name} outputs no event twice "
                                           f"({len(mine) - len(set(mine))} repeats)")
    both = {o["event_id"] for o in out_a} & {o["event_id"] for o in out_b}
    print(f"info: {len(both)} events output by both engines (read again after the handover)")
    check(len(out_a) > 0 and len(out_b) > 0, "both engines scored events")


if __name__ == "__main__":
    main()
