#!/usr/bin/env python3
"""Backpressure (issue 4): a slow sink slows consumption, memory stays bounded, and consumer lag
is a metric that says how far behind the engine is.

On a 3-broker `sluice kafka-dev`, kcat produces a log to a 3-partition topic; then every broker
answers 400 ms late (`rtt`), so each batch's outputs take that long to be acknowledged, and the
engine runs with small batches. While the sink is slow:
  * the engine's progress follows the sink: records read stay within one batch (plus the
    outputs it counted) of what it delivered, and far behind the log;
  * sluice_kafka_consumer_lag in the metrics file equals, within a batch, the number of records
    produced (counted by kcat) minus the records the engine read;
  * the engine's resident memory grows by less than 64 MiB over the slow phase.
Once the delay is lifted the engine catches up: the lag drops to 0 and outputs + dead letters
account for every record.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from testlib import KafkaDev, check, finish, kafka_spec  # noqa: E402

BATCH_BYTES = 16384  # ~90 fraud events a batch


def count(bootstrap, topic):
    r = subprocess.run(["kcat", "-C", "-e", "-q", "-b", bootstrap, "-t", topic, "-o", "beginning",
                        "-f", "x\n"], capture_output=True, text=True, timeout=60)
    return r.stdout.count("x")


def status(log):
    """The engine's last status line: records read, outputs delivered."""
    m = re.findall(r'msg="status" records=(\d+) applied=\d+ dead_letters=(\d+) outputs=(\d+)',
                   open(log).read())
    return tuple(int(x) for x in m[-1]) if m else (0, 0, 0)


def lag(metrics):
    """Summed sluice_kafka_consumer_lag over the partitions, None before every partition has one."""
    try:
        text = open(metrics).read()
    except FileNotFoundError:
        return None
    vals = [float(v) for v in re.findall(r'^sluice_kafka_consumer_lag\{[^}]*\} (\S+)$', text, re.M)]
    return sum(vals) if len(vals) == 3 else None


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    sluice, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    ev = os.path.join(work, "ev.jsonl")
    subprocess.run([sluice, "gen", "fraud", "--events", "9000", "--seed", "3", "--out", ev,
                    "--quiet"], check=True)
    lines = open(ev).read().splitlines()
    log, metrics = os.path.join(work, "run.stderr"), os.path.join(work, "metrics.prom")
    for f in (log, metrics):
        if os.path.exists(f):
            os.remove(f)
    with KafkaDev(sluice, ["events:3", "scores:1", "dead:1"],
                  stderr_path=os.path.join(work, "kafka-dev.stderr")) as cluster:
        subprocess.run(["kcat", "-P", "-b", cluster.bootstrap, "-t", "events", "-l", ev],
                       check=True, timeout=60)
        produced = count(cluster.bootstrap, "events")
        check(produced == len(lines), f"kcat produced the log ({produced})")
        for b in (1, 2, 3):
            check(cluster.command(f"rtt {b} 400") == "ok", f"kafka-dev: rtt {b} 400")
        with open(log, "w") as err:
            spec = kafka_spec(os.path.join(work, "kafka.yaml"), cluster.bootstrap, "bp")
            p = subprocess.Popen([sluice, "run", spec,
                                  "--batch-bytes", str(BATCH_BYTES), "--status-seconds", "0.2",
                                  "--metrics-file", metrics], stderr=err)
        # The slow phase: sample progress, lag and memory once the engine is under way.
        end = time.time() + 30
        while time.time() < end and status(log)[0] == 0:
            time.sleep(0.2)
        samples, rss = [], []
        for _ in range(8):
            time.sleep(0.5)
            records, dead, outputs = status(log)
            samples.append((records, dead, outputs, lag(metrics)))
            rss.append(rss_kib(p.pid))
        records, dead, outputs, slow_lag = samples[-1]
        print(f"     slow phase samples (records, dead letters, outputs, lag): {samples}")
        check(0 < records < produced // 2,
              f"a slow sink slows consumption ({records} of {produced} read after the slow phase)")
        check(all(r - d - o <= 200 for r, d, o, _ in samples),
              "records read stay within one batch of the outputs delivered")
        check(slow_lag is not None and abs(slow_lag - (produced - records)) <= 200,
              f"sluice_kafka_consumer_lag = produced - read, within a batch ({slow_lag} vs "
              f"{produced} - {records})")
        check(max(rss) - min(rss) < 64 * 1024,
              f"memory stays bounded over the slow phase (RSS {min(rss)}-{max(rss)} KiB)")
        for b in (1, 2, 3):
            check(cluster.command(f"rtt {b} 0") == "ok", f"kafka-dev: rtt {b} 0")
        end = time.time() + 120
        while time.time() < end and status(log)[0] < produced:
            time.sleep(0.5)
        time.sleep(1)  # one more status line (and metrics file) after the last batch
        check(status(log)[0] == produced, "the engine catches up once the sink is fast again")
        check(lag(metrics) == 0, f"the lag drops to 0 ({lag(metrics)})")
        p.send_signal(signal.SIGTERM)
        check(p.wait(timeout=30) == 0, "SIGTERM: exit 0")
        outs, dead = count(cluster.bootstrap, "scores"), count(cluster.bootstrap, "dead")
        check(outs + dead == produced,
              f"outputs + dead letters = records produced ({outs} + {dead} = {produced})")
    finish()


if __name__ == "__main__":
    main()
