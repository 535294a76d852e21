#!/usr/bin/env python3
"""Kafka in -> features -> model -> Kafka out, against the limit: librdkafka's own consume-then-
produce loop doing no processing (bench_kafka_loop), on the same `sluice kafka-dev` cluster, the
same generated log, in the same run. Both flush each batch's outputs before committing its
offsets. Prints events/s per core for each, their ratio (target >= 0.5), and the engine's event
latency quantiles (read -> output delivered) from its metrics at full throughput.

  /usr/bin/python3 bench/kafka_bench.py --sluice build/sluice --loop build/bench/bench_kafka_loop \
      --events 200000 --runs 3
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "examples", "fraud", "pipeline.yaml")
sys.path.insert(0, os.path.join(ROOT, "test"))
from testlib import KafkaDev  # noqa: E402  (the tests' kafka-dev launcher)


def quantile(buckets, count, q):
    """The upper bound of the histogram bucket holding quantile q."""
    for le, c in buckets:
        if c >= q * count:
            return le
    return float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--loop", required=True)
    ap.add_argument("--events", type=int, default=200000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sluice-kafka-bench-")
    ev, lab = os.path.join(work, "ev.jsonl"), os.path.join(work, "lab.jsonl")
    subprocess.run([a.sluice, "gen", "fraud", "--events", str(a.events), "--seed", "1", "--out", ev,
                    "--labels-out", lab, "--quiet"], check=True)
    # A model trained on the same data, so the engine does the whole job: features + scoring.
    feat, model = os.path.join(work, "f.csv"), os.path.join(work, "model.json")
    subprocess.run([a.sluice, "backfill", SPEC, "--input", ev, "--labels", lab, "--output", feat,
                    "--no-score", "--quiet", "--dead-letter", os.path.join(work, "d.jsonl")], check=True)
    subprocess.run([a.sluice, "train", SPEC, "--data", feat, "--label", "is_fraud", "--out", model,
                    "--rounds", "100", "--early-stopping", "0", "--quiet",
                    "--registry", os.path.join(work, "reg")], check=True)
    loop, engine, p50, p99 = [], [], [], []
    for run in range(a.runs):
        cluster = KafkaDev(a.sluice, ["events:6", "copy:6", "scores:6", "dead:1"])
        b = cluster.bootstrap
        try:
            subprocess.run(["kcat", "-P", "-b", b, "-t", "events", "-l", ev], check=True)
            r = subprocess.run([a.loop, "--brokers", b, "--in", "events", "--out", "copy",
                                "--group", f"loop{run}", "--count", str(a.events)],
                               capture_output=True, text=True, check=True)
            loop.append(json.loads(r.stdout)["per_second"])
            spec = os.path.join(work, "kafka.yaml")
            kafka = ('{brokers: "%s", topic: events, group: engine%d, config: {session.timeout.ms: '
                     '"3000", heartbeat.interval.ms: "500"}}' % (b, run))
            lines = []
            for l in open(SPEC).read().splitlines():
                if l.startswith("model:"):
                    l = "model: {file: %s}" % model
                if l.startswith("dead_letter:"):
                    l = "dead_letter: {kafka: {brokers: \"%s\", topic: dead}}" % b
                lines.append("  kafka: " + kafka if l.startswith("  file: ../../data") else l)
            lines.append("output: {kafka: {brokers: \"%s\", topic: scores}}" % b)
            open(spec, "w").write("\n".join(lines) + "\n")
            metrics = os.path.join(work, "m.prom")
            r = subprocess.run([a.sluice, "run", spec, "--max-records", str(a.events),
                                "--status-seconds", "0", "--metrics-file", metrics],
                               capture_output=True, text=True, check=True)
            busy = float(re.search(r"busy_seconds=([0-9.]+)", r.stderr).group(1))
            engine.append(a.events / busy)
            buckets, count = [], 0
            for line in open(metrics):
                m = re.match(r'sluice_event_latency_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
                if m:
                    buckets.append((float(m.group(1)), float(m.group(2))))
                if line.startswith("sluice_event_latency_seconds_count"):
                    count = float(line.split()[1])
            p50.append(quantile(buckets, count, 0.5))
            p99.append(quantile(buckets, count, 0.99))
        finally:
            cluster.stop()
    l, e = statistics.median(loop), statistics.median(engine)
    print(json.dumps({"events": a.events, "runs": a.runs, "loop_per_s": loop, "engine_per_s": engine,
                      "median_loop_per_s": round(l), "median_engine_per_s": round(e),
                      "ratio": round(e / l, 3), "latency_p50_le_s": statistics.median(p50),
                      "latency_p99_le_s": statistics.median(p99)}))


if __name__ == "__main__":
    main()
