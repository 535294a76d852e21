"""What the Python integration tests share: the example spec, a check that records failures,
running a command that must exit with a given code, and a `sluice kafka-dev` cluster.

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from testlib import SPEC, check, run, finish, KafkaDev, kafka_spec
"""
import os
import signal
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "examples", "fraud", "pipeline.yaml")
failures = []

# What a sanitizer build prints when it finds something, and the options that make it stop at the
# first finding (ASan already does; UBSan would print and go on) and look for leaks at exit.
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                   "ThreadSanitizer")
SANITIZER_ENV = {"ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1",
                 "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}


def check(ok, what):
    """Prints ok/FAIL and remembers a failure; finish() turns them into the exit code."""
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(cmd, expect=0):
    """Runs cmd and stops the test at once when its exit code is not `expect`."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != expect:
        sys.exit(f"{' '.join(cmd)}: exit {r.returncode}, expected {expect}\n{r.stderr}")
    return r


def kafka_spec(path, bootstrap, group, config=None, topic="events", output="scores", dead="dead",
               output_options="", model=None):
    """Writes examples/fraud/pipeline.yaml reading `topic` from Kafka in consumer group `group`
    (librdkafka properties `config`, after a short session so the mock rebalances quickly), its
    outputs to topic `output` (with `output_options`, e.g. "include_features: true") and dead
    letters to `dead`; the model is `model` (a file) or left out. Returns path."""
    props = {"session.timeout.ms": "3000", "heartbeat.interval.ms": "500", **(config or {})}
    kafka = '{brokers: "%s", topic: %s, group: %s, config: {%s}}' % (
        bootstrap, topic, group, ", ".join('%s: "%s"' % kv for kv in props.items()))
    out = []
    for line in open(SPEC).read().splitlines():
        if line.startswith("dead_letter:"):
            continue
        if line.startswith("model:"):
            if model:
                out.append("model: {file: %s}" % model)
            continue
        out.append("  kafka: " + kafka if line.startswith("  file: ../../data") else line)
    opts = ", " + output_options if output_options else ""
    out.append('output: {kafka: {brokers: "%s", topic: %s}%s}' % (bootstrap, output, opts))
    out.append('dead_letter: {kafka: {brokers: "%s", topic: %s}}' % (bootstrap, dead))
    open(path, "w").write("\n".join(out) + "\n")
    return path


def finish():
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


class KafkaDev:
    """`sluice kafka-dev` with the given topics ("name:partitions"); its fault-injection commands
    go through command(). Use as a context manager: the cluster stops on exit."""

    def __init__(self, sluice, topics, brokers=3, stderr_path=os.devnull):
        args = [sluice, "kafka-dev", "--brokers", str(brokers)]
        for t in topics:
            args += ["--topic", t]
        self.err = open(stderr_path, "w")
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, text=True, bufsize=1)
        self.bootstrap = self._readline(20)

    def _readline(self, timeout):
        box = []
        t = threading.Thread(target=lambda: box.append(self.p.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        if not box or not box[0].strip():
            sys.exit("FAIL: kafka-dev did not answer")
        return box[0].strip()

    def command(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self._readline(10)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=20)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
