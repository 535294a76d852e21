#!/usr/bin/env python3
"""`sluice run --state` on Kafka through crashes and broker faults (issue 4).

A 3-broker `sluice kafka-dev` holds the log in one partition (so the order the engine applies
events in is the partition's, the same in every run). kcat produces a generated log at a steady
pace while the engine consumes it with a checkpoint every second; the engine is killed with
SIGKILL twice, each time at a random moment after it has applied something, and restarted on the
same state folder. Meanwhile the cluster injects faults (a broker down and back, produce and fetch
errors, moved leaders; SLUICE_CRASH_WITH_FAULTS=0 leaves them out), and each engine must apply
events again once they heal before it is killed. Then:
  * both restarts restored a checkpoint taken mid-stream and went on applying events;
  * every output it wrote equals the uninterrupted run's output for that event (the same log read
    from a file), byte for byte, and together they cover every event (repeats allowed: outputs are
    at-least-once, state exactly-once);
  * outputs + dead letters account for every record.

The mock keeps at most 5 MiB per partition (librdkafka 2.0.2, not configurable) and silently
drops a partition's oldest messages beyond that, so the log is sized to fit one partition and the
outputs (~500 bytes each, repeats included) are spread over 8; the test checks that no partition
lost its head, since that alone would make outputs differ (state missing the dropped events) and
go missing.
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from testlib import SPEC, KafkaDev, check, finish, kafka_spec  # noqa: E402
# Broker faults combined with crashes: on unless SLUICE_CRASH_WITH_FAULTS=0.
WITH_FAULTS = os.environ.get("SLUICE_CRASH_WITH_FAULTS", "1") == "1"



def spec_for(work, bootstrap):
    path = kafka_spec(os.path.join(work, "kafka.yaml"), bootstrap, "crash-test",
                      output_options="include_features: true")
    file_spec = os.path.join(work, "file.yaml")
    open(file_spec, "w").write("\n".join(
        l if not l.startswith("model:") else "output: {include_features: true}"
        for l in open(SPEC).read().splitlines()) + "\n")
    return path, file_spec


def kcat_read(bootstrap, topic):
    """(partition, offset, value) of every message, from the beginning of each partition."""
    r = subprocess.run(["kcat", "-C", "-e", "-q", "-b", bootstrap, "-t", topic, "-o", "beginning",
                        "-f", "%p %o %s\n"], capture_output=True, text=True, timeout=60)
    out = []
    for l in r.stdout.splitlines():
        if l:
            p, o, v = l.split(" ", 2)
            out.append((int(p), int(o), v))
    return out


def heads_kept(msgs):
    """True when every partition read starts at offset 0 (the mock dropped nothing)."""
    first = {}
    for p, o, _ in msgs:
        first[p] = min(o, first.get(p, o))
    return all(o == 0 for o in first.values())


class Producer:
    """kcat producing `lines` to the topic at a steady pace, so the engine is killed mid-stream.
    Idempotent, so injected produce errors neither reorder nor repeat the log."""

    def __init__(self, bootstrap, lines, err, per_tick=200, tick=0.2):
        self.p = subprocess.Popen(["kcat", "-P", "-b", bootstrap, "-t", "events",
                                   "-X", "enable.idempotence=true"],
                                  stdin=subprocess.PIPE, stderr=err, text=True)
        self.t = threading.Thread(target=self.feed, args=(lines, per_tick, tick), daemon=True)
        self.t.start()

    def feed(self, lines, per_tick, tick):
        for i in range(0, len(lines), per_tick):
            self.p.stdin.write("\n".join(lines[i:i + per_tick]) + "\n")
            self.p.stdin.flush()
            time.sleep(tick)
        self.p.stdin.close()

    def wait(self, timeout):
        self.t.join(timeout)
        return self.p.wait(timeout=timeout)


def applied(path, since):
    """Records the engine logging to `path` (from byte `since`) has applied since it started."""
    text = open(path).read()[since:]
    base = re.search(r'msg="restored" checkpoint=\d+ records=(\d+)', text)
    seen = [int(m) for m in re.findall(r'msg="status" records=(\d+)', text)]
    return (max(seen) if seen else 0) - (int(base.group(1)) if base else 0)


def wait_progress(log, since, beyond, what):
    end = time.time() + 25  # the mock's group join takes ~3 s, ~6 s after a dead member
    while time.time() < end and applied(log, since) <= beyond:
        time.sleep(0.1)
    check(applied(log, since) > beyond, what)


# Per engine: faults injected once it applies events, then what heals them. The mock elects no
# leader when a broker goes down, so the broker must come back before the engine can deliver
# outputs to (or read from) the partitions it leads: until then the engine waits, as it must.
FAULTS = [(["broker-down 2", "errors Produce 3 NOT_LEADER_OR_FOLLOWER"], ["broker-up 2"]),
          (["leader scores 0 3", "leader events 0 2", "errors Fetch 3 NOT_LEADER_OR_FOLLOWER"], [])]


def crash_runs(cmd, log, cluster, rng):
    """Two engines, each SIGKILLed at a random moment once it has applied events (and, with
    faults, once it applies events again after they healed)."""
    for kill in range(2):
        since = os.path.getsize(log)
        with open(log, "a") as err:
            p = subprocess.Popen(cmd, stderr=err)
        wait_progress(log, since, 0, f"engine {kill + 1} applies events")
        if WITH_FAULTS:
            faults, heal = FAULTS[kill]
            for f in faults:
                check(cluster.command(f) == "ok", f"kafka-dev: {f}")
            time.sleep(rng.uniform(0.5, 2.0))
            for f in heal:
                check(cluster.command(f) == "ok", f"kafka-dev: {f}")
            wait_progress(log, since, applied(log, since),
                          f"engine {kill + 1} applies events after {', '.join(faults)}")
        time.sleep(rng.uniform(0.1, 1.5))
        p.send_signal(signal.SIGKILL)
        p.wait()


def main():
    sluice, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = random.Random(int(os.environ.get("SLUICE_CRASH_SEED", "1")))
    ev = os.path.join(work, "ev.jsonl")
    # ~3.3 MB: the whole log fits in one partition of the mock (5 MiB).
    subprocess.run([sluice, "gen", "fraud", "--events", "20000", "--seed", "9", "--out", ev,
                    "--quiet"], check=True)
    lines = open(ev).read().splitlines()
    ref = os.path.join(work, "ref.jsonl")
    _, file_spec = spec_for(work, "unused")
    subprocess.run([sluice, "run", file_spec, "--input", ev, "--output", ref, "--dead-letter",
                    os.path.join(work, "ref_dead.jsonl"), "--status-seconds", "0"], check=True,
                   stderr=subprocess.DEVNULL)
    by_id = {json.loads(l)["event_id"]: l for l in open(ref).read().splitlines()}
    ref_dead = len(open(os.path.join(work, "ref_dead.jsonl")).read().splitlines())
    cluster = KafkaDev(sluice, ["events:1", "scores:8", "dead:1"],
                       stderr_path=os.path.join(work, "kafka-dev.stderr"))
    try:
        spec, _ = spec_for(work, cluster.bootstrap)
        state = os.path.join(work, "state")
        shutil.rmtree(state, ignore_errors=True)  # a fresh cluster: no earlier run's checkpoint
        log = os.path.join(work, "run.stderr")
        open(log, "w").close()
        # Checkpoints every second while outputs are committed per batch: a crash leaves up to a
        # second of events between the checkpoint and the committed offsets, which a restart must
        # apply again (from the checkpoint's offsets, not the group's). Small batches fill up, so
        # the engine runs saturated: a batch's outputs are waited for while the next one is
        # processed, and a checkpoint must first wait for them (engine/runtime.cc).
        cmd = [sluice, "run", spec, "--state", state, "--checkpoint-interval", "1s",
               "--status-seconds", "0.1", "--batch-bytes", "4000"]
        producer = Producer(cluster.bootstrap, lines,
                            open(os.path.join(work, "kcat-producer.stderr"), "w"))
        crash_runs(cmd, log, cluster, rng)
        with open(log, "a") as err:
            p = subprocess.Popen(cmd, stderr=err)
        check(producer.wait(60) == 0, "kcat produced the log")
        end = time.time() + 60
        outs, dead = [], []
        while time.time() < end:
            outs, dead = kcat_read(cluster.bootstrap, "scores"), kcat_read(cluster.bootstrap, "dead")
            if len({json.loads(o[2])["event_id"] for o in outs}) >= len(by_id) and \
                    len({d[2] for d in dead}) >= ref_dead:
                break
            time.sleep(1)
        p.send_signal(signal.SIGTERM)
        check(p.wait(timeout=30) == 0, "the restarted engine stops cleanly on SIGTERM")
        events = kcat_read(cluster.bootstrap, "events")
    finally:
        cluster.stop()
    check(len(events) == len(lines) and heads_kept(events) and heads_kept(outs) and
          heads_kept(dead), "the mock kept every message (no partition over its 5 MiB)")
    restored = re.findall(r'msg="restored" checkpoint=\d+ records=(\d+)', open(log).read())
    check(len(restored) == 2 and all(0 < int(r) < len(lines) for r in restored),
          f"both restarts restored a checkpoint taken mid-stream (records={restored})")
    outs = [o[2] for o in outs]
    differ = sum(1 for o in outs if by_id.get(json.loads(o)["event_id"]) != o)
    covered = {json.loads(o)["event_id"] for o in outs}
    check(differ == 0, f"every output equals the uninterrupted run's ({len(outs)} written, "
                       f"{len(outs) - len(covered)} repeats, {differ} differ)")
    check(covered == set(by_id), f"outputs cover every applied event ({len(covered)}/{len(by_id)})")
    dead = {d[2] for d in dead}
    check(len(dead) == ref_dead and len(covered) + len(dead) == len(lines),
          "outputs + dead letters account for every record")
    finish()


if __name__ == "__main__":
    main()
