#!/usr/bin/env python3
"""`sluice run` end to end on Kafka (issue 4): kcat produces a generated log (with bad records) to
a 6-partition topic of a 3-broker `sluice kafka-dev`; the engine consumes it in a consumer group,
writes outputs to a 1-partition topic and dead letters to another; kcat reads them back.

  * every input record is accounted for: outputs + dead letters = records produced;
  * dead letters name their origin as topic/partition/offset and carry the raw record;
  * every output equals `sluice backfill` of the same events taken in the order the engine
    consumed them (the output topic's order), feature by feature;
  * offsets were committed only for what was delivered: a restarted engine in the same group
    reads nothing again; SIGTERM stops it with exit 0;
  * with a sanitizer build (kafka.run_end_to_end_asan), no sanitizer report from the engine or
    kafka-dev: every process stops at its first finding and looks for leaks at exit.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from testlib import (SANITIZER_ENV, SANITIZER_MARKS, SPEC, KafkaDev, check, finish,  # noqa: E402
                     kafka_spec)



def kcat_read(bootstrap, topic, fmt="%s\n"):
    r = subprocess.run(["kcat", "-C", "-e", "-q", "-b", bootstrap, "-t", topic, "-o", "beginning",
                        "-f", fmt], capture_output=True, text=True, timeout=60)
    return [l for l in r.stdout.splitlines() if l]


def wait_for(bootstrap, total, timeout):
    end = time.time() + timeout
    while time.time() < end:
        outs, dead = kcat_read(bootstrap, "scores"), kcat_read(bootstrap, "dead")
        if len(outs) + len(dead) >= total:
            return outs, dead
        time.sleep(2)
    return kcat_read(bootstrap, "scores"), kcat_read(bootstrap, "dead")


def main():
    sluice, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    os.environ.update(SANITIZER_ENV)  # for every process started below; a release build ignores it
    with KafkaDev(sluice, ["events:6", "scores:1", "dead:2"],
                  stderr_path=os.path.join(work, "kafka-dev.stderr")) as cluster:
        run_test(sluice, work, cluster)
    for name in ("run.stderr", "kafka-dev.stderr"):
        text = open(os.path.join(work, name), errors="replace").read()
        found = [m for m in SANITIZER_MARKS if m in text]
        check(not found, f"no sanitizer report in {name}" + (f" ({found[0]}; see {work})" if found else ""))
    finish()


def run_test(sluice, work, cluster):
    bootstrap = cluster.bootstrap
    ev = os.path.join(work, "ev.jsonl")
    # librdkafka's mock keeps at most 5 MiB per partition and silently drops the oldest messages
    # beyond it (docs/operations.md): the outputs, ~600 bytes each with features, must fit one
    # partition (the output topic has one, so its order is the order the engine applied events).
    subprocess.run([sluice, "gen", "fraud", "--events", "6000", "--seed", "5", "--out", ev,
                    "--quiet"], check=True)
    lines = open(ev).read().splitlines() + ['{"txn_id":"bad1","ts":"soon","user_id":"u1"}',
                                            "not json"]
    keyed = os.path.join(work, "keyed.txt")
    with open(keyed, "w") as f:  # keyed by user, as a producer of card transactions would
        for l in lines:
            user = json.loads(l)["user_id"] if l.startswith("{") else "junk"
            f.write(user + "\t" + l + "\n")
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "events", "-K", "\t", "-l", keyed,
                    "-X", "enable.idempotence=true"], check=True, timeout=60)
    # Small fetches; the aligner orders partitions in event time (engine/partition_aligner.h).
    spec = kafka_spec(os.path.join(work, "kafka.yaml"), bootstrap, "sluice-test",
                      {"max.partition.fetch.bytes": "8192"}, output_options="include_features: true")
    err = open(os.path.join(work, "run.stderr"), "w")
    # One broker answering 700 ms late: its partitions' first records come well after the
    # others', which the event-time alignment must wait for (a race on a busy CI machine).
    check(cluster.command("rtt 2 700") == "ok", "kafka-dev: rtt 2 700")
    run = subprocess.Popen([sluice, "run", spec, "--threads", "2", "--status-seconds", "1"],
                           stderr=err)
    outs, dead = wait_for(bootstrap, len(lines), 150)
    check(cluster.command("rtt 2 0") == "ok", "kafka-dev: rtt 2 0")
    check(len(outs) + len(dead) == len(lines),
          f"outputs + dead letters = records produced ({len(outs)} + {len(dead)} = {len(lines)})")
    d = [json.loads(x) for x in dead]
    unnamed = [x for x in d if not (x["source"].startswith("events/") and x["source"].count("/") == 2)]
    check(not unnamed, "dead letters name topic/partition/offset" +
          (f" (not: {json.dumps(unnamed[0])[:300]})" if unnamed else ""))
    check({"bad_time", "parse_error"} <= {x["reason"] for x in d},
          "the bad records are dead-lettered with their reasons")
    # Partitions are merged in event time (engine/partition_aligner.h): a merchant's events from
    # six card-keyed partitions arrive nearly in order, so hardly more are late than in the file
    # itself (before the aligner, up to 69% of them were).
    late = sum(x["reason"] == "late" for x in d)
    file_late = file_late_count(sluice, work, ev)
    check(late <= file_late + len(lines) // 100,
          f"partitions aligned in event time: {late} late (the file in its own order: {file_late})")
    compare(sluice, work, lines, [json.loads(o) for o in outs])
    run.send_signal(signal.SIGTERM)
    check(run.wait(timeout=30) == 0, "SIGTERM: exit 0")
    again = subprocess.Popen([sluice, "run", spec, "--status-seconds", "0"], stderr=err)
    time.sleep(8)
    again.send_signal(signal.SIGTERM)
    again.wait(timeout=30)
    check(len(kcat_read(bootstrap, "scores")) == len(outs),
          "a restarted engine in the same group reads nothing again (offsets were committed)")


def file_late_count(sluice, work, ev):
    """`late` dead letters of the log read from its file, in file order."""
    spec = os.path.join(work, "file_order.yaml")
    open(spec, "w").write("\n".join(l for l in open(SPEC).read().splitlines()
                                    if not l.startswith("model:")) + "\n")
    dead = os.path.join(work, "file_dead.jsonl")
    subprocess.run([sluice, "run", spec, "--input", ev, "--output", "/dev/null", "--dead-letter",
                    dead, "--status-seconds", "0"], check=True, stderr=subprocess.DEVNULL)
    return sum(json.loads(l)["reason"] == "late" for l in open(dead).read().splitlines())


def compare(sluice, work, lines, outs):
    """Backfill of the applied events in the order the engine applied them."""
    by_id = {json.loads(l)["txn_id"]: l for l in lines if l.startswith("{")}
    log = os.path.join(work, "consumed.jsonl")
    open(log, "w").write("\n".join(by_id[o["event_id"]] for o in outs) + "\n")
    spec = os.path.join(work, "file.yaml")
    open(spec, "w").write("\n".join(l for l in open(SPEC).read().splitlines()
                                    if not l.startswith("model:")) + "\n")
    bf = os.path.join(work, "bf.csv")
    subprocess.run([sluice, "backfill", spec, "--input", log, "--output", bf, "--quiet",
                    "--dead-letter", os.path.join(work, "bf_dead.jsonl")], check=True)
    b = pd.read_csv(bf, float_precision="round_trip")
    check(len(b) == len(outs), "backfill applies every event the engine applied")
    names = list(b.columns[2:])
    bad = 0
    for o, (_, row) in zip(outs, b.iterrows()):
        for n in names:
            a, v = o["features"][n], row[n]
            if (a is None) != pd.isna(v) or (a is not None and a != v):
                bad += 1
    check(bad == 0, f"every output's features equal backfill's in consumed order ({bad} differ)")


if __name__ == "__main__":
    main()
