#!/usr/bin/env python3
"""Kafka in -> features -> model -> Kafka out, against the limit: librdkafka's own consume-then-
produce loop doing no processing (bench_kafka_loop), on the same `sluice kafka-dev` cluster, the
same generated log, in the same run. Both flush each batch's outputs before committing its
offsets. Each run measures, for each of the two:
  1. the maximum throughput: the whole log preloaded by kcat keyed by user_id (so each card's
     events keep their order in one partition, as a producer of such a stream would key them),
     consumed as fast as it goes (events/s from the first record read to the last batch
     delivered, one engine thread). Events late for their merchant key across partitions become
     dead letters (SPEC.md section 3); their share is printed;
  2. event latency at half of that maximum: bench_kafka_latency produces the log's events at that
     rate (keyed by user_id) into a fresh topic while the pipeline runs, reads the outputs and
     matches each to its input by event id: latency = output received - input produced, per
     event (outputs only; dead letters are counted apart);
  3. the same latency with both at one moderate rate (--fixed-rate), where neither is saturated.
Consumers in the latency runs (engine, loop and the output reader alike) use fetch.wait.max.ms
= --fetch-wait-ms: librdkafka's mock holds an empty fetch that long even when data arrives.
Prints medians over the runs and the engine/loop throughput ratio (target >= 0.5).

  /usr/bin/python3 bench/kafka_bench.py --sluice build/sluice --loop build/bench/bench_kafka_loop \
      --latency build/bench/bench_kafka_latency --events 60000 --runs 3
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
from testlib import KafkaDev, kafka_spec  # noqa: E402  (the tests' kafka-dev launcher)


WARMUP = 200  # latency runs: events sent first and waited for (the group join), not counted


def engine_spec(path, model, brokers, topic, group, out, dead, fetch_wait=None):
    """examples/fraud/pipeline.yaml reading `topic` on Kafka and writing `out` and `dead` there."""
    config = {} if fetch_wait is None else {"fetch.wait.max.ms": str(fetch_wait)}
    kafka_spec(path, brokers, group, config, topic=topic, output=out, dead=dead, model=model)


def latency(a, brokers, ev, topic_in, topic_out, dead, rate, pipeline):
    """Runs `pipeline` (a started Popen reading topic_in) against the paced producer at `rate`."""
    try:
        r = subprocess.run([a.latency, "--brokers", brokers, "--in", topic_in, "--out", topic_out,
                            "--dead", dead,
                            "--events", ev, "--rate", str(int(rate)), "--count",
                            str(a.latency_events), "--warmup", str(WARMUP), "--fetch-wait-ms",
                            str(a.fetch_wait_ms)], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            sys.exit("bench_kafka_latency failed: " + r.stderr + r.stdout)
        return json.loads(r.stdout)
    finally:
        try:
            pipeline.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pipeline.kill()
            pipeline.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--loop", required=True)
    ap.add_argument("--latency", required=True, help="build/bench/bench_kafka_latency")
    ap.add_argument("--events", type=int, default=60000)
    ap.add_argument("--latency-events", type=int, default=0,
                    help="events per latency run (default: the log less the warm-up)")
    ap.add_argument("--fetch-wait-ms", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fixed-rate", type=int, default=20000,
                    help="also measure both at this same input rate (0: skip)")
    a = ap.parse_args()
    if not a.latency_events or a.latency_events > a.events - WARMUP:
        a.latency_events = a.events - WARMUP
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
    keyed = os.path.join(work, "ev.tsv")
    with open(keyed, "w") as out:
        for line in open(ev):
            out.write(json.loads(line)["user_id"] + "\t" + line)
    loop, engine, applied, lat_loop, lat_engine = [], [], [], [], []
    topics = ["events:6", "copy:6", "scores:6", "dead:1", "lin_loop:6", "lout_loop:6",
              "lin_engine:6", "lout_engine:6", "ldead:1", "fin_loop:6", "fout_loop:6",
              "fin_engine:6", "fout_engine:6", "fdead:1"]
    fixed_loop, fixed_engine = [], []
    for run in range(a.runs):
        cluster = KafkaDev(a.sluice, topics)
        b = cluster.bootstrap
        try:
            # 1. Maximum throughput over the preloaded log.
            subprocess.run(["kcat", "-P", "-b", b, "-t", "events", "-K", "\t", "-l", keyed],
                           check=True)
            r = subprocess.run([a.loop, "--brokers", b, "--in", "events", "--out", "copy",
                                "--group", f"loop{run}", "--count", str(a.events)],
                               capture_output=True, text=True, check=True)
            loop.append(json.loads(r.stdout)["per_second"])
            spec = os.path.join(work, "kafka.yaml")
            engine_spec(spec, model, b, "events", f"engine{run}", "scores", "dead")
            r = subprocess.run([a.sluice, "run", spec, "--max-records", str(a.events),
                                "--status-seconds", "0"], capture_output=True, text=True, check=True)
            busy = float(re.search(r"busy_seconds=([0-9.]+)", r.stderr).group(1))
            engine.append(a.events / busy)
            outputs = int(re.search(r"outputs=([0-9]+)", r.stderr.splitlines()[-1]).group(1))
            applied.append(outputs / a.events)
            # 2. Latency at half of each one's maximum, measured just before.
            n = WARMUP + a.latency_events
            p = subprocess.Popen([a.loop, "--brokers", b, "--in", "lin_loop", "--out", "lout_loop",
                                  "--group", f"lloop{run}", "--count", str(n), "--fetch-wait-ms",
                                  str(a.fetch_wait_ms)], stdout=subprocess.DEVNULL)
            lat_loop.append(latency(a, b, ev, "lin_loop", "lout_loop", "", loop[-1] / 2, p))
            lspec = os.path.join(work, "kafka_latency.yaml")
            engine_spec(lspec, model, b, "lin_engine", f"lengine{run}", "lout_engine", "ldead",
                        a.fetch_wait_ms)
            p = subprocess.Popen([a.sluice, "run", lspec, "--max-records", str(n),
                                  "--status-seconds", "0"], stderr=subprocess.DEVNULL)
            lat_engine.append(latency(a, b, ev, "lin_engine", "lout_engine", "ldead", engine[-1] / 2,
                                      p))
            if a.fixed_rate:  # 3. Both at one moderate rate: the latency each adds, unsaturated.
                p = subprocess.Popen([a.loop, "--brokers", b, "--in", "fin_loop", "--out",
                                      "fout_loop", "--group", f"floop{run}", "--count", str(n),
                                      "--fetch-wait-ms", str(a.fetch_wait_ms)],
                                     stdout=subprocess.DEVNULL)
                fixed_loop.append(latency(a, b, ev, "fin_loop", "fout_loop", "", a.fixed_rate, p))
                engine_spec(lspec, model, b, "fin_engine", f"fengine{run}", "fout_engine", "fdead",
                            a.fetch_wait_ms)
                p = subprocess.Popen([a.sluice, "run", lspec, "--max-records", str(n),
                                      "--status-seconds", "0"], stderr=subprocess.DEVNULL)
                fixed_engine.append(latency(a, b, ev, "fin_engine", "fout_engine", "fdead",
                                            a.fixed_rate, p))
            print(json.dumps({"run": run, "loop_per_s": round(loop[-1]),
                              "engine_per_s": round(engine[-1]), "scored_share": applied[-1], "loop_latency": lat_loop[-1],
                              "engine_latency": lat_engine[-1],
                              "fixed_rate_loop": fixed_loop[-1] if fixed_loop else None,
                              "fixed_rate_engine": fixed_engine[-1] if fixed_engine else None}),
                  file=sys.stderr)
        finally:
            cluster.stop()
    l, e = statistics.median(loop), statistics.median(engine)

    def med(runs, key):
        return round(statistics.median(r[key] for r in runs), 2)

    print(json.dumps({"events": a.events, "runs": a.runs, "loop_per_s": [round(x) for x in loop],
                      "engine_per_s": [round(x) for x in engine], "median_loop_per_s": round(l),
                      "median_engine_per_s": round(e), "ratio": round(e / l, 3),
                      "engine_scored_share": round(statistics.median(applied), 3),
                      "latency_events": a.latency_events,
                      "loop_half_rate_p50_ms": med(lat_loop, "p50_ms"),
                      "loop_half_rate_p99_ms": med(lat_loop, "p99_ms"),
                      "engine_half_rate_p50_ms": med(lat_engine, "p50_ms"),
                      "engine_half_rate_p99_ms": med(lat_engine, "p99_ms"),
                      "fixed_rate": a.fixed_rate,
                      "loop_fixed_rate_p50_ms": med(fixed_loop, "p50_ms") if fixed_loop else None,
                      "loop_fixed_rate_p99_ms": med(fixed_loop, "p99_ms") if fixed_loop else None,
                      "engine_fixed_rate_p50_ms": med(fixed_engine, "p50_ms") if fixed_engine else None,
                      "engine_fixed_rate_p99_ms": med(fixed_engine, "p99_ms") if fixed_engine else None}))


if __name__ == "__main__":
    main()
