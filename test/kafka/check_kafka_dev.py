#!/usr/bin/env python3
"""`sluice kafka-dev` end to end with kcat as the independent Kafka client (SPEC.md §1).

Starts a 3-broker mock cluster with a 6-partition topic, produces 10k keyed messages with kcat,
consumes them back with kcat and checks that every message arrives exactly once, that a key
always lands on one partition and that offsets are contiguous. Then it injects faults through
kafka-dev's stdin (a broker down, Produce and Fetch request errors, a leader move, round-trip
delay), produces and consumes 10k more and checks the same, and ends with SIGTERM (exit 0).
The checker is first run on corrupted logs to prove it can fail."""
import os
import signal
import subprocess
import sys
import threading
import time

N = 10_000
KEYS = 137


def check_log(lines, want_values):
    """Problems in a consumed log ('P O KEY VALUE' lines) against the values expected once each."""
    problems = []
    seen = {}
    key_part = {}
    offsets = {}
    for line in lines:
        parts = line.split(" ", 3)
        if len(parts) != 4:
            problems.append(f"malformed line {line!r}")
            continue
        p, o, k, v = int(parts[0]), int(parts[1]), parts[2], parts[3]
        seen[v] = seen.get(v, 0) + 1
        if key_part.setdefault(k, p) != p:
            problems.append(f"key {k} on partitions {key_part[k]} and {p}")
        offsets.setdefault(p, []).append(o)
    dups = [v for v, c in seen.items() if c > 1]
    missing = [v for v in want_values if v not in seen]
    extra = [v for v in seen if v not in want_values]
    if dups:
        problems.append(f"{len(dups)} duplicated, e.g. {dups[:3]}")
    if missing:
        problems.append(f"{len(missing)} missing, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} unexpected, e.g. {extra[:3]}")
    for p, offs in offsets.items():
        if sorted(offs) != list(range(len(offs))):
            problems.append(f"partition {p}: offsets not 0..{len(offs) - 1}")
    return problems


def self_test():
    good = ["0 0 a v1", "1 0 b v2", "0 1 a v3"]
    want = {"v1", "v2", "v3"}
    assert check_log(good, want) == [], check_log(good, want)
    assert check_log(good + ["0 2 a v1"], want), "a duplicate must be caught"
    assert check_log(good[:2], want), "a missing message must be caught"
    assert check_log(good + ["1 1 a v4"], want | {"v4"}), "a key on two partitions must be caught"
    assert check_log(["0 0 a v1", "0 2 a v3", "1 0 b v2"], want), "an offset gap must be caught"


class Cluster:
    def __init__(self, sluice, workdir):
        self.err = open(os.path.join(workdir, "kafka-dev.stderr"), "w")
        self.proc = subprocess.Popen([sluice, "kafka-dev", "--brokers", "3", "--topic", "events:6"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, bufsize=1)
        self.bootstrap = self.readline(20)

    def readline(self, timeout):
        box = []
        t = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        if not box or not box[0]:
            raise SystemExit("FAIL kafka-dev: no line on stdout within %ss" % timeout)
        return box[0].rstrip("\n")

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.readline(10)


def produce(bootstrap, first, n, workdir):
    data = "".join(f"user{i % KEYS}:m{i}\n" for i in range(first, first + n))
    path = os.path.join(workdir, f"in-{first}.txt")
    with open(path, "w") as f:
        f.write(data)
    # Idempotence makes librdkafka's retries duplicate-free across broker failures.
    return subprocess.Popen(["kcat", "-P", "-b", bootstrap, "-t", "events", "-K:", "-l", path,
                             "-X", "enable.idempotence=true", "-X", "message.timeout.ms=60000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def consume(bootstrap):
    return subprocess.Popen(["kcat", "-C", "-e", "-q", "-b", bootstrap, "-t", "events", "-o", "beginning",
                             "-f", "%p %o %k %s\n"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(proc, what, failures, timeout=60):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        failures.append(f"{what}: timed out")
    if proc.returncode != 0:
        failures.append(f"{what}: exit {proc.returncode}: {err[-500:]}")
    return out


def main():
    sluice = sys.argv[1]
    workdir = sys.argv[2] if len(sys.argv) > 2 else "/tmp/sluice-kafka-dev-check"
    os.makedirs(workdir, exist_ok=True)
    self_test()
    failures = []

    def expect(what, ok, detail=""):
        print(("PASS " if ok else "FAIL ") + what + ("" if ok else ": " + str(detail)[:500]))
        if not ok:
            failures.append(what)

    h = subprocess.run([sluice, "kafka-dev", "--help"], capture_output=True, text=True)
    expect("--help", h.returncode == 0 and "usage: sluice kafka-dev" in h.stdout and "broker-down" in h.stdout)
    bad = subprocess.run([sluice, "kafka-dev", "--topic", "events"], capture_output=True, text=True)
    expect("--topic without partitions is a usage error", bad.returncode == 2, bad.stderr)

    c = Cluster(sluice, workdir)
    expect("bootstrap line", c.bootstrap.count(":") == 3 and "127.0.0.1" in c.bootstrap, c.bootstrap)

    p = produce(c.bootstrap, 0, N, workdir)
    finish(p, "kcat produce", failures)
    out = finish(consume(c.bootstrap), "kcat consume", failures)
    problems = check_log(out.splitlines(), {f"m{i}" for i in range(N)})
    expect(f"{N} messages exactly once, keys on one partition each", not problems, problems)
    expect("6 partitions used", len({l.split(" ")[0] for l in out.splitlines()}) == 6)

    # Faults while producing: a broker down (its partitions wait for it), request errors, a move.
    # The mock picks leaders at random: pin them so broker 2 surely leads partitions 1 and 4.
    pins = [f"leader events {part} {part % 3 + 1}" for part in range(6)]
    for cmd in pins + ["broker-down 2", "errors Produce 3 NOT_LEADER_OR_FOLLOWER", "rtt 1 20"]:
        expect(f"command '{cmd}'", c.command(cmd) == "ok")
    p = produce(c.bootstrap, N, N, workdir)
    time.sleep(1.5)
    # Proof the fault bit: with broker 2 down, its partitions cannot take the messages yet.
    expect("producer held up by the broker down", p.poll() is None)
    expect("command 'leader events 0 3'", c.command("leader events 0 3") == "ok")
    expect("command 'broker-up 2'", c.command("broker-up 2") == "ok")
    finish(p, "kcat produce under faults", failures)
    # Faults while consuming: Fetch errors and a broker down for a while.
    for cmd in ["errors Fetch 4 NOT_LEADER_OR_FOLLOWER", "broker-down 3"]:
        expect(f"command '{cmd}'", c.command(cmd) == "ok")
    q = consume(c.bootstrap)
    time.sleep(1.5)
    expect("consumer held up by the broker down", q.poll() is None)
    expect("command 'broker-up 3'", c.command("broker-up 3") == "ok")
    out = finish(q, "kcat consume under faults", failures)
    problems = check_log(out.splitlines(), {f"m{i}" for i in range(2 * N)})
    expect(f"{2 * N} messages exactly once after faults", not problems, problems)

    answer = c.command("errors NoSuchApi 1 NOT_LEADER_OR_FOLLOWER")
    expect("a bad command is answered 'error: ...'", answer.startswith("error: "), answer)
    expect("command 'topic more 2'", c.command("topic more 2") == "ok")

    c.proc.send_signal(signal.SIGTERM)
    try:
        code = c.proc.wait(20)
    except subprocess.TimeoutExpired:
        c.proc.kill()
        code = "timeout"
    expect("SIGTERM exits 0", code == 0, code)
    if failures:
        print(f"{len(failures)} failure(s); kafka-dev's stderr is in {workdir}")
        sys.exit(1)
    print("all kafka-dev checks passed")


if __name__ == "__main__":
    main()
