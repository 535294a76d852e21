#!/usr/bin/python3
"""Runs one libFuzzer target for a bounded time, seeded from test/fuzz/corpus/<name>/.

    run_fuzz.py --fuzz-dir build-sanitize/test/fuzz --name jsonl_decoder --workdir DIR [--seconds 20]

Fails (exit 1) with a clear message when the fuzzer binary is missing: CI always builds it with
`cmake --preset sanitize && cmake --build build-sanitize`, so a missing binary is a broken build,
not a reason to skip. New inputs go to DIR/corpus (the seed folder in the source tree is only
read); a crash, leak, timeout or UB report leaves its reproducer in DIR/artifacts/ and fails the run.
Before fuzzing, every file in test/fuzz/crashes/<name>/ is replayed: a known finding keeps failing
the test until the engine is fixed, and then guards against its return.
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Per-target libFuzzer flags. RecordReader allocates and zero-fills its read buffer per reader, so
# its target runs ~100 inputs/s; without -len_control=0 the input length would hardly grow.
EXTRA_FLAGS = {"record_reader": ["-len_control=0", "-max_len=8192"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fuzz-dir", required=True, help="folder holding <name>_fuzzer binaries")
    ap.add_argument("--name", required=True, help="target name, e.g. jsonl_decoder")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seconds", type=int, default=20, help="-max_total_time")
    ap.add_argument("--rss-limit-mb", type=int, default=2048)
    ap.add_argument("--max-len", type=int, default=65536, help="-max_len (record_reader sets its own)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel fuzzing processes (-fork)")
    args = ap.parse_args()

    args.workdir = os.path.abspath(args.workdir)
    binary = os.path.abspath(os.path.join(args.fuzz_dir, f"{args.name}_fuzzer"))
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        print(f"FAIL: fuzzer binary {binary} does not exist. Build it with:\n"
              "  cmake --preset sanitize && cmake --build build-sanitize\n"
              "(clang + libFuzzer; CI always builds it, so its absence is an error, not a skip)")
        return 1
    seeds = os.path.join(HERE, "corpus", args.name)
    if not os.path.isdir(seeds) or not os.listdir(seeds):
        print(f"FAIL: seed corpus {seeds} is missing or empty")
        return 1

    corpus = os.path.join(args.workdir, "corpus")
    artifacts = os.path.join(args.workdir, "artifacts") + os.sep
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(corpus)
    os.makedirs(artifacts)
    cmd = [binary, corpus, seeds, f"-max_total_time={args.seconds}", f"-rss_limit_mb={args.rss_limit_mb}",
           "-timeout=10", f"-max_len={args.max_len}", "-print_final_stats=1", f"-artifact_prefix={artifacts}"]
    cmd += EXTRA_FLAGS.get(args.name, [])
    dict_path = os.path.join(HERE, "dicts", f"{args.name}.dict")
    if os.path.isfile(dict_path):
        cmd.append(f"-dict={dict_path}")
    if args.jobs > 1:
        cmd.append(f"-fork={args.jobs}")
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "halt_on_error=1:detect_leaks=1:allocator_may_return_null=1"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"

    known = os.path.join(HERE, "crashes", args.name)
    repros = sorted(os.path.join(known, f) for f in os.listdir(known)) if os.path.isdir(known) else []
    still = []
    for repro in repros:
        p = subprocess.run([binary, repro, f"-artifact_prefix={args.workdir}/replay-"], env=env, cwd=args.workdir,
                           capture_output=True)
        if p.returncode != 0:
            still.append(repro)
            tail = p.stderr.decode("utf-8", "replace").splitlines()
            summary = next((l for l in tail if "SUMMARY" in l or "INVARIANT BROKEN" in l), tail[-1] if tail else "")
            print(f"known reproducer still fails: {repro}\n  {summary}")
    print(" ".join(cmd), flush=True)
    rc = subprocess.call(cmd, env=env, cwd=args.workdir)
    found = sorted(os.listdir(artifacts))
    if still:
        print(f"FAIL: {len(still)} known reproducer(s) in {known} still fail; see test/fuzz/README.md")
    if rc != 0 or found:
        print(f"FAIL: {args.name}_fuzzer exited with {rc}; reproducers: "
              f"{[os.path.join(artifacts, f) for f in found] or 'none saved'}")
        print("Reproduce with: " + f"{binary} <reproducer>; save it under test/fuzz/crashes/{args.name}/")
        return 1
    if still:
        return 1
    print(f"OK: {args.name}_fuzzer ran {args.seconds}s without a finding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
