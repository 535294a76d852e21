#!/usr/bin/env python3
"""`sluice run --state` on Kafka through crashes and broker faults (issue 4).

NOT YET REGISTERED WITH CTEST: it fails today. After a SIGKILL of the engine, the mock cluster
showed fewer outputs on the output topic than the engine had been told were delivered, and the
restarted engine received no further messages (file sources recover exactly: see
test/runtime/check_crash.py). Kept to reproduce the problem:
    /usr/bin/python3 test/kafka/check_crash_kafka.py build/sluice /tmp/kc

A 3-broker `sluice kafka-dev` holds the log in one partition (so the order the engine applies
events in is the partition's, the same in every run). kcat produces a generated log; the engine
consumes it with checkpoints every 100 ms and is killed with SIGKILL twice at random moments while
the cluster injects faults (a broker down, produce errors, a moved leader); each time it restarts
on the same state folder. Then:
  * every output it wrote equals the uninterrupted run's output for that event (the same log read
    from a file), byte for byte, and together they cover every event (repeats allowed: outputs are
    at-least-once, state exactly-once);
  * outputs + dead letters account for every record.
"""
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(ROOT, "examples", "fraud", "pipeline.yaml")
failures = []
# Broker faults combined with crashes: off until the stall found with them is understood (see
# docs/operations.md, "Known gaps").
WITH_FAULTS = os.environ.get("SLUICE_CRASH_WITH_FAULTS") == "1"


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


class Cluster:
    def __init__(self, sluice, work):
        self.err = open(os.path.join(work, "kafka-dev.stderr"), "w")
        self.p = subprocess.Popen([sluice, "kafka-dev", "--brokers", "3", "--topic", "events:1",
                                   "--topic", "scores:1", "--topic", "dead:1"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                  text=True, bufsize=1)
        self.bootstrap = self.readline(20)

    def readline(self, timeout):
        box = []
        t = threading.Thread(target=lambda: box.append(self.p.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        if not box or not box[0]:
            sys.exit("FAIL: kafka-dev did not answer")
        return box[0].strip()

    def command(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.readline(10)


def spec_for(work, bootstrap):
    kafka = ('{brokers: "%s", topic: events, group: crash-test, config: {session.timeout.ms: "3000", '
             'heartbeat.interval.ms: "500"}}' % bootstrap)
    out = []
    for line in open(SPEC).read().splitlines():
        if line.startswith("model:") or line.startswith("dead_letter:"):
            continue
        out.append("  kafka: " + kafka if line.startswith("  file: ../../data") else line)
    out.append("output: {kafka: {brokers: \"%s\", topic: scores}, include_features: true}" % bootstrap)
    out.append("dead_letter: {kafka: {brokers: \"%s\", topic: dead}}" % bootstrap)
    path = os.path.join(work, "kafka.yaml")
    open(path, "w").write("\n".join(out) + "\n")
    file_spec = os.path.join(work, "file.yaml")
    open(file_spec, "w").write("\n".join(
        l if not l.startswith("model:") else "output: {include_features: true}"
        for l in open(SPEC).read().splitlines()) + "\n")
    return path, file_spec


def kcat_read(bootstrap, topic):
    r = subprocess.run(["kcat", "-C", "-e", "-q", "-b", bootstrap, "-t", topic, "-o", "beginning",
                        "-f", "%s\n"], capture_output=True, text=True, timeout=120)
    return [l for l in r.stdout.splitlines() if l]


def main():
    sluice, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = random.Random(1)
    ev = os.path.join(work, "ev.jsonl")
    subprocess.run([sluice, "gen", "fraud", "--events", "40000", "--seed", "9", "--out", ev,
                    "--quiet"], check=True)
    lines = open(ev).read().splitlines()
    ref = os.path.join(work, "ref.jsonl")
    _, file_spec = spec_for(work, "unused")
    subprocess.run([sluice, "run", file_spec, "--input", ev, "--output", ref, "--dead-letter",
                    os.path.join(work, "ref_dead.jsonl"), "--status-seconds", "0"], check=True,
                   stderr=subprocess.DEVNULL)
    by_id = {json.loads(l)["event_id"]: l for l in open(ref).read().splitlines()}
    ref_dead = len(open(os.path.join(work, "ref_dead.jsonl")).read().splitlines())
    cluster = Cluster(sluice, work)
    try:
        spec, _ = spec_for(work, cluster.bootstrap)
        subprocess.run(["kcat", "-P", "-b", cluster.bootstrap, "-t", "events", "-l", ev],
                       check=True, timeout=120)
        state = os.path.join(work, "state")
        cmd = [sluice, "run", spec, "--state", state, "--checkpoint-interval", "100ms",
               "--status-seconds", "0"]
        err = open(os.path.join(work, "run.stderr"), "w")
        faults = ["broker-down 2", "errors Produce 3 NOT_LEADER_OR_FOLLOWER", "broker-up 2",
                  "leader scores 0 3"]
        for kill in range(2):
            p = subprocess.Popen(cmd, stderr=err)
            time.sleep(rng.uniform(4, 7))  # the mock's group join takes ~3 s
            if WITH_FAULTS:
                for f in faults[2 * kill:2 * kill + 2]:
                    check(cluster.command(f) == "ok", f"kafka-dev: {f}")
            time.sleep(rng.uniform(0.2, 1.0))
            p.send_signal(signal.SIGKILL)
            p.wait()
        p = subprocess.Popen(cmd, stderr=err)
        end = time.time() + 150
        outs, dead = [], []
        while time.time() < end:
            outs, dead = kcat_read(cluster.bootstrap, "scores"), kcat_read(cluster.bootstrap, "dead")
            if len({json.loads(o)["event_id"] for o in outs}) >= len(by_id) and \
                    len(set(dead)) >= ref_dead:
                break
            time.sleep(2)
        p.send_signal(signal.SIGTERM)
        check(p.wait(timeout=30) == 0, "the restarted engine stops cleanly on SIGTERM")
    finally:
        cluster.p.send_signal(signal.SIGTERM)
        cluster.p.wait(timeout=20)
    differ = sum(1 for o in outs if by_id.get(json.loads(o)["event_id"]) != o)
    covered = {json.loads(o)["event_id"] for o in outs}
    check(differ == 0, f"every output equals the uninterrupted run's ({len(outs)} written, "
                       f"{len(outs) - len(covered)} repeats, {differ} differ)")
    check(covered == set(by_id), f"outputs cover every applied event ({len(covered)}/{len(by_id)})")
    check(len(set(dead)) == ref_dead and len(covered) + len(set(dead)) == len(lines),
          "outputs + dead letters account for every record")
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
