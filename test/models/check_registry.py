#!/usr/bin/python3
"""`sluice models` end to end (SPEC.md §1): concurrent registration from two processes, alias
history, rollback, a tampered artifact refused, a model whose inputs a spec cannot provide
refused naming them, immutability of recorded rows, exit codes and --help. Checks use Python's
own hashlib and sqlite3, not Sluice's code.

    check_registry.py SLUICE WORKDIR
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(ROOT, "examples", "fraud", "pipeline.yaml")
SUBS = ["list", "show", "register", "alias", "rollback", "history", "export", "verify"]
failures = []


def expect(what, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + what + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(what)


def linear(inputs, weights, bias=0.0):
    return json.dumps({"format": "sluice-linear", "version": 1, "kind": "logistic",
                       "inputs": inputs, "weights": weights, "bias": bias})


class Cli:
    def __init__(self, sluice, registry):
        self.sluice, self.registry = sluice, registry

    def run(self, *args, env=None):
        p = subprocess.run([self.sluice, "models", *args, "--registry", self.registry],
                           capture_output=True, text=True, timeout=120, env=env)
        return p.returncode, p.stdout, p.stderr

    def json(self, *args):
        code, out, err = self.run(*args, "--json")
        if code != 0:
            raise RuntimeError(f"{args}: exit {code}: {err}")
        return json.loads(out)


def register_many(cli, work, worker, count):
    versions = []
    for i in range(count):
        path = os.path.join(work, f"m{worker}_{i}.json")
        with open(path, "w") as f:
            f.write(linear(["amount"], [worker + i / 1000.0]))
        code, out, err = cli.run("register", "--name", "fraud", "--file", path, "--quiet",
                                 "--param", f"worker={worker}", "--param", f"i={i}")
        versions.append(int(out) if code == 0 else f"exit {code}: {err.strip()}")
    return versions


def check_concurrent(cli, work):
    with ThreadPoolExecutor(2) as pool:  # each register is its own process
        results = list(pool.map(lambda w: register_many(cli, work, w, 50), [0, 1]))
    got = results[0] + results[1]
    errors = [v for v in got if isinstance(v, str)]
    expect("2 processes x 50 registrations all succeed", not errors, errors[:3])
    nums = sorted(v for v in got if isinstance(v, int))
    expect("versions are exactly 1..100, no gap, no duplicate", nums == list(range(1, 101)),
           nums[:10])
    rows = cli.json("list", "--name", "fraud")
    expect("list shows 100 versions", [r["version"] for r in rows] == list(range(1, 101)))
    bad = []
    for r in rows:
        sha = r["artifact_sha256"]
        path = os.path.join(cli.registry, "artifacts", "sha256", sha[:2], sha[2:])
        params = r["params"]
        with open(os.path.join(work, f"m{params['worker']}_{params['i']}.json"), "rb") as f:
            source = f.read()
        with open(path, "rb") as f:
            stored = f.read()
        if hashlib.sha256(stored).hexdigest() != sha or stored != source:
            bad.append(r["version"])
    expect("every artifact is the registered file and hashes to its recorded sha256", not bad, bad)
    code, out, _ = cli.run("verify")
    expect("verify passes", code == 0 and "100 versions checked, 0 damaged" in out, out)


def check_aliases(cli):
    env = dict(os.environ, USER="alice")
    for v in (1, 2, 3):
        code, _, err = cli.run("alias", "--name", "fraud", "--alias", "production", "--version",
                               str(v), "--reason", f"ship {v}", env=env)
        expect(f"alias production -> {v}", code == 0, err)
    cli.run("alias", "--name", "fraud", "--alias", "canary", "--version", "4", "--by", "bob")
    h = cli.json("history", "--name", "fraud", "--alias", "production")
    expect("history records every set with who and why",
           [(c["action"], c["from"], c["to"], c["by"], c["reason"]) for c in h] ==
           [("set", None, 1, "alice", "ship 1"), ("set", 1, 2, "alice", "ship 2"),
            ("set", 2, 3, "alice", "ship 3")], h)
    code, out, err = cli.run("rollback", "--name", "fraud", "--alias", "production", "--by",
                             "carol", "--reason", "auc dropped")
    expect("rollback 3 -> 2", code == 0 and "3 -> 2" in out, out + err)
    code, out, _ = cli.run("rollback", "--name", "fraud", "--alias", "production")
    expect("second rollback 2 -> 1", code == 0 and "2 -> 1" in out, out)
    code, _, err = cli.run("rollback", "--name", "fraud", "--alias", "production")
    expect("third rollback has nothing to go back to (exit 1)", code == 1 and "nothing" in err, err)
    shown = cli.json("show", "--name", "fraud", "--alias", "production")
    expect("production resolves to 1 after the rollbacks", shown["version"] == 1, shown)
    expect("canary untouched", cli.json("show", "--name", "fraud", "--alias", "canary")["version"]
           == 4)
    h = cli.json("history", "--name", "fraud")
    expect("history keeps rollbacks (append-only, 6 entries)",
           [c["action"] for c in h] == ["set"] * 3 + ["set", "rollback", "rollback"] and
           h[4]["by"] == "carol" and h[4]["reason"] == "auc dropped", h)


def check_lineage(cli, work):
    path = os.path.join(work, "child.json")
    with open(path, "w") as f:
        f.write(linear(["amount"], [9.0]))
    code, out, err = cli.run("register", "--name", "fraud", "--file", path, "--parent", "100",
                             "--metrics", '{"auc": 0.91}', "--training-data", path)
    expect("register with parent, metrics, training data", code == 0 and out.strip() == "101", err)
    code, out, err = cli.run("register", "--name", "fraud", "--file", path, "--parent", "101")
    shown = cli.json("show", "--name", "fraud", "--version", "102")
    expect("show gives the lineage (parent chain)", shown["lineage"] == [102, 101, 100], shown)
    v101 = cli.json("show", "--name", "fraud", "--version", "101")
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    expect("metrics and training digest recorded",
           v101["metrics"] == {"auc": 0.91} and v101["training_digest"] == digest, v101)
    code, _, err = cli.run("register", "--name", "fraud", "--file", path, "--parent", "999")
    expect("unknown parent refused (exit 2)", code == 2 and "parent version 999" in err, err)


def check_tampered(cli, work):
    v = cli.json("show", "--name", "fraud", "--version", "7")
    sha = v["artifact_sha256"]
    path = os.path.join(cli.registry, "artifacts", "sha256", sha[:2], sha[2:])
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        data[-3] ^= 1  # one flipped bit
        f.seek(0)
        f.write(data)
    code, _, err = cli.run("export", "--name", "fraud", "--version", "7", "--out",
                           os.path.join(work, "out.json"))
    expect("a tampered artifact is refused (exit 1, 'corrupted', names the hash)",
           code == 1 and "corrupted" in err and sha in err, err)
    expect("nothing written for a tampered artifact", not os.path.exists(os.path.join(work, "out.json")))
    code, out, err = cli.run("verify")
    expect("verify reports the damaged version", code == 1 and "1 damaged" in out and "fraud v7" in err,
           out + err)
    code, _, err = cli.run("export", "--name", "fraud", "--version", "8", "--out",
                           os.path.join(work, "v8.json"))
    expect("an intact artifact exports", code == 0, err)


def check_inputs(cli, work):
    bad, good = os.path.join(work, "bad_inputs.json"), os.path.join(work, "good_inputs.json")
    with open(bad, "w") as f:
        f.write(linear(["u_cnt_1h", "no_such_feature", "amount", "merchant_id"], [1, 2, 3, 4]))
    with open(good, "w") as f:
        f.write(linear(["u_cnt_1h", "amt_ratio", "amount", "lat"], [1, 2, 3, 4]))
    code, _, err = cli.run("register", "--name", "spec_checked", "--file", bad, "--spec", SPEC)
    expect("model with inputs the spec lacks refused (exit 2) naming them",
           code == 2 and "no_such_feature and merchant_id" in err, err)
    code, out, err = cli.run("register", "--name", "spec_checked", "--file", good, "--spec", SPEC)
    expect("model whose inputs the spec provides registers", code == 0 and out.strip() == "1", err)
    spec_hash = hashlib.sha256(open(SPEC, "rb").read()).hexdigest()
    shown = cli.json("show", "--name", "spec_checked")
    expect("spec hash recorded", shown["spec_hash"] == spec_hash, shown)


def check_immutable(cli):
    db = sqlite3.connect(os.path.join(cli.registry, "registry.db"))
    for sql in ("UPDATE versions SET artifact_sha256 = 'x' WHERE version = 1",
                "DELETE FROM versions", "DELETE FROM alias_history"):
        try:
            db.execute(sql)
            db.commit()
            expect(f"refused: {sql}", False, "statement succeeded")
        except sqlite3.DatabaseError as e:
            expect(f"refused: {sql}", "immutable" in str(e) or "append-only" in str(e), e)
    db.close()


def check_usage(cli):
    for sub in SUBS:
        p = subprocess.run([cli.sluice, "models", sub, "--help"], capture_output=True, text=True)
        expect(f"models {sub} --help", p.returncode == 0 and f"usage: sluice models {sub}" in p.stdout)
    p = subprocess.run([cli.sluice, "models", "list"], capture_output=True, text=True)
    expect("missing --registry is a usage error", p.returncode == 2 and "--registry" in p.stderr)
    code, _, err = cli.run("alias", "--name", "fraud", "--alias", "x", "--version", "zero")
    expect("bad --version is a usage error", code == 2, err)
    code, _, err = cli.run("register", "--name", "fraud", "--file", SPEC, "--frob")
    expect("unknown flag is a usage error", code == 2 and "--frob" in err, err)
    code, _, err = cli.run("show", "--name", "nope")
    expect("unknown model is a runtime failure naming it", code == 1 and "nope" in err, err)


def main():
    sluice, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cli = Cli(sluice, os.path.join(work, "registry"))
    check_concurrent(cli, work)
    check_aliases(cli)
    check_lineage(cli, work)
    check_tampered(cli, work)
    check_inputs(cli, work)
    check_immutable(cli)
    check_usage(cli)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
