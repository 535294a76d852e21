"""What the Python integration tests share: the example spec, a check that records failures,
running a command that must exit with a given code, and a `sluice kafka-dev` cluster.

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from testlib import SPEC, check, run, finish, KafkaDev
"""
import os
import signal
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "examples", "fraud", "pipeline.yaml")
failures = []


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
