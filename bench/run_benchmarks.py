#!/usr/bin/python3
"""Runs Sluice's benchmarks in one session and records them in docs/benchmarks.md.

    bench/run_benchmarks.py --sluice build/sluice [--events 1000000] [--runs 5] [--long-runs 3]

(a) backfill of examples/fraud/pipeline.yaml, 1 and 2 threads, median events/s;
(b) bench_parse on the same file (the decode limit): ratio backfill / parse, target >= 0.4;
(c) backfill of bench/peer_spec.yaml vs bench/pandas_peer.py on the same in-order file, after
    checking both give the same values (bench/peer_check.py): ratio of times, target >= 50, with
    and without pandas' read_json time;
(d) bench_state_memory with 10M and 1M keys: bytes per key-feature pair, target <= 200.
Short runs are repeated --runs times and long ones (pandas) --long-runs times, interleaved so
that noise from other processes hits peer and subject alike; medians are reported. The binaries
are copied first, so a rebuild during the run cannot mix versions. Generated data is cached in
--workdir. Exit status 1 when pandas and Sluice disagree or a benchmark fails.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_check  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"
FRAUD_SPEC = "examples/fraud/pipeline.yaml"
PEER_SPEC = "bench/peer_spec.yaml"
BEGIN, END = "<!-- BEGIN run_benchmarks.py -->", "<!-- END run_benchmarks.py -->"


class Session:
    """Paths, binaries and the log of every command run."""

    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.workdir)
        self.bin = os.path.join(self.work, "bin")
        self.commands = []  # (what, command line) in the order first run

    def rel(self, path):
        path = os.path.abspath(path)
        return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path

    def note(self, what, argv, env=None):
        """Records a command for docs/benchmarks.md (once per `what`)."""
        line = " ".join(shlex.quote(self.rel(a) if os.path.isabs(a) else a) for a in argv)
        if env:
            line = " ".join(f"{k}={v}" for k, v in env.items()) + " " + line
        if what not in (w for w, _ in self.commands):
            self.commands.append((what, line))
        return line

    def run(self, what, argv, env=None, timeout=3600):
        """Runs argv from the repo root; returns (wall s, cpu s, stdout, stderr)."""
        line = self.note(what, argv, env)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        p = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, **(env or {})))
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if p.returncode != 0:
            raise SystemExit(f"failed ({p.returncode}): {line}\n{p.stderr[-2000:]}")
        return wall, cpu, p.stdout, p.stderr


def snapshot_binaries(s):
    """Copies sluice, bench_parse and bench_state_memory into the work dir."""
    os.makedirs(s.bin, exist_ok=True)
    bench_dir = s.args.bench_dir or os.path.join(os.path.dirname(os.path.abspath(s.args.sluice)), "bench")
    found = {}
    for name, src in (("sluice", s.args.sluice), ("bench_parse", os.path.join(bench_dir, "bench_parse")),
                      ("bench_state_memory", os.path.join(bench_dir, "bench_state_memory"))):
        if not os.path.isfile(src):
            raise SystemExit(f"missing {src}: build first (cmake --preset release && cmake --build build)")
        dst = os.path.join(s.bin, name)
        shutil.copy2(src, dst)
        found[name] = dst
    return found


def prepare_data(s, sluice):
    """The fraud events (cached), an in-order copy for the pandas comparison, both in page cache."""
    a = s.args
    data = os.path.join(s.work, f"fraud-{a.events}-seed{a.seed}")
    os.makedirs(data, exist_ok=True)
    events, ordered = os.path.join(data, "events.jsonl"), os.path.join(data, "events_in_order.jsonl")
    gen = [sluice, "gen", "fraud", "--events", str(a.events), "--seed", str(a.seed), "--out", events,
           "--labels-out", os.path.join(data, "labels.jsonl"), "--quiet"]
    if a.regen or not os.path.exists(events):
        s.run("generate the events", gen)
        if os.path.exists(ordered):
            os.remove(ordered)
    else:
        s.note("generate the events (cached from an earlier run)", gen)
    if not os.path.exists(ordered):
        sort_by_time(events, ordered)
    s.commands.append(("in-order copy for pandas: the events stable-sorted by ts (sort_by_time)",
                       "# -> " + s.rel(ordered)))
    for path in (events, ordered):
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    return data, events, ordered


def sort_by_time(src, dst):
    """Stable sort of a JSONL log by its `ts` field: the same events, in order."""
    with open(src, "rb") as f:
        lines = [line if line.endswith(b"\n") else line + b"\n" for line in f if line.strip()]
    times = [json.loads(line)["ts"] for line in lines]
    order = sorted(range(len(lines)), key=times.__getitem__)
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        f.writelines(lines[i] for i in order)
    os.replace(tmp, dst)


def stage_times(stderr):
    """{'decode': s, ...} from SLUICE_STAGE_TIMES=1 output, or {}."""
    for line in stderr.splitlines():
        if line.startswith("stages:"):
            parts = [p.strip().split() for p in line[len("stages:"):].split(",")]
            return {name: float(value.rstrip("s")) for name, value in parts}
    return {}


def median_dict(dicts):
    keys = dicts[0].keys() if dicts else []
    return {k: statistics.median(d[k] for d in dicts if k in d) for k in keys}


def bench_backfill_vs_parse(s, bins, data, events):
    """(a) and (b): per thread count, median backfill and bench_parse times, interleaved."""
    out = os.path.join(data, "fraud_out.csv")
    dead = os.path.join(data, "fraud_dead.jsonl")
    res = {t: {"backfill": [], "backfill_cpu": [], "stages": [], "parse": [], "parse_cpu": []} for t in (1, 2)}
    records, read_only = None, []
    for _ in range(s.args.runs):
        wall, _, _, _ = s.run("bench_parse, reading only", [bins["bench_parse"], FRAUD_SPEC, "--input", events,
                                                             "--read-only"])
        read_only.append(wall)
        for t in (1, 2):
            wall, cpu, _, err = s.run(f"backfill fraud, {t} thread(s)",
                                      [bins["sluice"], "backfill", FRAUD_SPEC, "--input", events, "--output", out,
                                       "--dead-letter", dead, "--threads", str(t), "--quiet", "--no-score"],
                                      env={"SLUICE_STAGE_TIMES": "1"})
            r = res[t]
            r["backfill"].append(wall)
            r["backfill_cpu"].append(cpu)
            r["stages"].append(stage_times(err))
            wall, cpu, stdout, _ = s.run(f"bench_parse, {t} thread(s)",
                                         [bins["bench_parse"], FRAUD_SPEC, "--input", events, "--threads", str(t)])
            parsed = json.loads(stdout)
            records = parsed["records"]
            r["parse"].append(wall)
            r["parse_cpu"].append(cpu)
    with open(dead, "rb") as f:
        dead_letters = sum(1 for _ in f)
    summary = {"records": records, "dead_letters": dead_letters, "read_only": statistics.median(read_only)}
    for t, r in res.items():
        summary[t] = {k: statistics.median(v) for k, v in r.items() if k != "stages"}
        summary[t]["stages"] = median_dict([x for x in r["stages"] if x])
        summary[t]["backfill_eps"] = records / summary[t]["backfill"]
        summary[t]["parse_eps"] = records / summary[t]["parse"]
    return summary


def bench_peer(s, bins, data, ordered):
    """(c): sluice backfill of the peer spec vs pandas, interleaved, then a value check."""
    out, dead = os.path.join(data, "peer_out.csv"), os.path.join(data, "peer_dead.jsonl")
    sample = os.path.join(data, "pandas_sample.csv")
    sluice_walls, sluice_cpus, pandas_runs = [], [], []
    for i in range(max(s.args.runs, s.args.long_runs)):
        wall, cpu, _, _ = s.run("backfill peer spec, 1 thread",
                                [bins["sluice"], "backfill", PEER_SPEC, "--input", ordered, "--output", out,
                                 "--dead-letter", dead, "--threads", "1", "--quiet"])
        sluice_walls.append(wall)
        sluice_cpus.append(cpu)
        if i < s.args.long_runs:
            argv = [PY, "bench/pandas_peer.py", PEER_SPEC, "--input", ordered]
            if i == 0:
                argv += ["--sample-out", sample, "--sample-every", str(s.args.sample_every)]
            _, _, stdout, _ = s.run("pandas peer" if i else "pandas peer (first run also writes the sample)", argv)
            pandas_runs.append(json.loads(stdout))
    check = peer_check.check(out, dead, sample, os.path.join(REPO, PEER_SPEC), ordered)
    return {"sluice": statistics.median(sluice_walls), "sluice_cpu": statistics.median(sluice_cpus),
            "pandas_read": statistics.median(r["read_s"] for r in pandas_runs),
            "pandas_compute": statistics.median(r["compute_s"] for r in pandas_runs),
            "pandas_total": statistics.median(r["total_s"] for r in pandas_runs),
            "features": pandas_runs[0]["features"], "rows": pandas_runs[0]["rows"], "check": check}


def bench_memory(s, bins):
    """(d): bench_state_memory per key count (heap accounting is deterministic: one run each)."""
    results = {}
    for keys in s.args.memory_keys:
        _, _, stdout, _ = s.run(f"bench_state_memory, {keys} keys",
                                [bins["bench_state_memory"], "--keys", str(keys)], timeout=7200)
        results[keys] = json.loads(stdout)
    return results


def fmt_rate(x):
    return f"{x / 1e3:,.0f}k ev/s"


def table_rows(r):
    """(figure, value, peer/limit, ratio, target, met) for the summary table."""
    rows = []
    b = r["backfill"]
    for t in (1, 2):
        ratio = b[t]["backfill_eps"] / b[t]["parse_eps"]
        rows.append((f"backfill fraud pipeline, {t} thread{'s' if t > 1 else ''} ({b['records']:,} events)",
                     fmt_rate(b[t]["backfill_eps"]), f"bench_parse {t}t: {fmt_rate(b[t]['parse_eps'])}",
                     f"{ratio:.2f}", ">= 0.4", ratio >= 0.4))
    p = r["peer"]
    for label, peer in (("incl. read_json", p["pandas_total"]), ("compute only", p["pandas_compute"])):
        ratio = peer / p["sluice"]
        rows.append((f"backfill peer spec ({p['features']} features) vs pandas, {label}", f"{p['sluice']:.2f} s",
                     f"pandas: {peer:.2f} s", f"{ratio:.1f}x", ">= 50x", ratio >= 50))
    for keys, m in sorted(r["memory"].items(), reverse=True):
        ratio = m["bytes_per_pair"] / m["target_bytes_per_pair"]
        rows.append((f"state per key-feature pair, count+sum 1h, {keys:,} keys", f"{m['bytes_per_pair']:.1f} B",
                     f"target {m['target_bytes_per_pair']:.0f} B", f"{ratio:.2f}", "<= 1.0", ratio <= 1.0))
    return rows


def markdown_table(rows):
    lines = ["| figure | value | peer / limit | ratio | target | met? |", "|---|---|---|---|---|---|"]
    for f, v, peer, ratio, target, met in rows:
        lines.append(f"| {f} | {v} | {peer} | {ratio} | {target} | {'yes' if met else '**no**'} |")
    return "\n".join(lines)


def print_table(rows):
    heads = ("figure", "value", "peer/limit", "ratio", "target", "met?")
    data = [(f, v, p, ra, t, "yes" if m else "NO") for f, v, p, ra, t, m in rows]
    widths = [max(len(str(x[i])) for x in [heads] + data) for i in range(6)]
    for row in [heads] + data:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def machine():
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        mem_kb = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "cpu": model, "mem_gb": mem_kb / 1024 / 1024, "kernel": platform.release()}


def git_state():
    def git(*a):
        p = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else "?"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "tools")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes in src/ or tools/" if dirty else "")


def details_markdown(r):
    b, p, m = r["backfill"], r["peer"], r["memory"]
    lines = ["### Details", ""]
    for t in (1, 2):
        st = ", ".join(f"{k} {v:.2f} s" for k, v in b[t]["stages"].items())
        lines.append(f"- backfill {t} thread(s): median {b[t]['backfill']:.2f} s wall, "
                     f"{b[t]['backfill_cpu']:.2f} s CPU; "
                     f"stages (SLUICE_STAGE_TIMES, medians): {st}. bench_parse: {b[t]['parse']:.2f} s wall, "
                     f"{b[t]['parse_cpu']:.2f} s CPU.")
    lines.append(f"- 2-thread speed-up of backfill: {b[1]['backfill'] / b[2]['backfill']:.2f}x, of bench_parse: "
                 f"{b[1]['parse'] / b[2]['parse']:.2f}x (how much of a second core this run could get); "
                 f"reading and splitting records alone (bench_parse --read-only): {b['read_only']:.2f} s; "
                 f"dead letters in the fraud log: {b['dead_letters']:,} of {b['records']:,} records (late arrivals).")
    c = p["check"]
    lines.append(f"- peer: Sluice {p['sluice']:.2f} s wall ({p['sluice_cpu']:.2f} s CPU, parse and CSV output "
                 f"included); "
                 f"pandas read_json {p['pandas_read']:.2f} s + compute {p['pandas_compute']:.2f} s (pandas writes "
                 f"no output).")
    lines.append(f"- agreement (bench/peer_check.py): {c['values_compared']:,} values in {c['rows_sampled']:,} sampled "
                 f"rows; {c['differ']} outside |a-b| <= 1e-9*max(1,|b|); Sluice dead letters: {c['dead_letters']}; "
                 f"{'no disagreement' if c['ok'] else 'DISAGREEMENT: ' + '; '.join(c['problems'][:5])}.")
    for w in c["pandas_wrong"][:5]:
        lines.append(f"  - recomputed exactly, pandas is off (rolling var/std cancellation): {w}")
    for keys, x in sorted(m.items(), reverse=True):
        lines.append(f"- memory, {keys:,} keys: heap growth {x['heap_bytes'] / 1e6:,.0f} MB (Admission "
                     f"{x['admission_bytes'] / 1e6:,.0f} MB, Shard {x['shard_bytes'] / 1e6:,.0f} MB), of which window "
                     f"events {x['event_bytes'] / 1e6:,.0f} MB; RSS growth {x['rss_bytes'] / 1e6:,.0f} MB "
                     f"({x['rss_bytes_per_pair']:.1f} B/pair without events); with events "
                     f"{x['bytes_per_pair_with_events']:.1f} B/pair; per key: {x['heap_bytes'] / keys:.0f} B, of which "
                     f"Admission {x['admission_bytes'] / keys:.0f} B and the window-state object (StateSize) "
                     f"{x['window_state_size']} B; apply {x['seconds']:.1f} s, dropping all keys "
                     f"{x['drop_seconds']:.1f} s.")
    return lines


def write_doc(s, r, rows, started):
    mc = machine()
    body = [BEGIN, f"## Latest run: {started:%Y-%m-%d %H:%M} UTC", "",
            f"Machine: {mc['nproc']} cores, {mc['cpu']}, {mc['mem_gb']:.0f} GB RAM, Linux {mc['kernel']}. "
            f"Load average before / after: {r['load'][0]} / {r['load'][1]} (the machine is shared: figures are "
            f"medians of {s.args.runs} runs, pandas of {s.args.long_runs}). Engine: {r['git']}.", "",
            markdown_table(rows), ""] + details_markdown(r) + [
            "", "### Commands", "", f"`{s.rel(s.bin)}/` holds copies of build/sluice and build/bench/bench_* taken "
            "at the start of the run.", "", "```sh", "cmake --preset release && cmake --build build",
            "/usr/bin/python3 " + " ".join(shlex.quote(a) for a in r["argv"])]
    body += [f"# {what}\n{line}" for what, line in s.commands] + ["```", END]
    path = os.path.join(REPO, s.args.doc)
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else DOC_HEADER
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + "\n".join(body) + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(body) + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


DOC_HEADER = """# Benchmarks

Figures from `bench/run_benchmarks.py` (see bench/README.md). Each compares with a peer or a limit
measured in the same run.
"""


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", required=True, help="the sluice binary, e.g. build/sluice")
    ap.add_argument("--bench-dir", help="where bench_parse and bench_state_memory are (default: <sluice dir>/bench)")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5, help="runs of short benchmarks (median)")
    ap.add_argument("--long-runs", type=int, default=3, help="runs of pandas (median)")
    ap.add_argument("--memory-keys", default="10000000,1000000", help="key counts for bench_state_memory")
    ap.add_argument("--sample-every", type=int, default=97, help="pandas rows checked: every Nth and the last")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "sluice-bench"))
    ap.add_argument("--regen", action="store_true", help="regenerate the cached events")
    ap.add_argument("--doc", default="docs/benchmarks.md", help="relative to the repo; '' to skip writing")
    a = ap.parse_args()
    a.memory_keys = [int(k) for k in a.memory_keys.split(",") if k]
    return a


def main():
    args = parse_args()
    s = Session(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    r = {"argv": ["bench/run_benchmarks.py"] + sys.argv[1:], "git": git_state(),
         "load": [" ".join(open("/proc/loadavg").read().split()[:3])]}
    bins = snapshot_binaries(s)
    data, events, ordered = prepare_data(s, bins["sluice"])
    print(f"data: {events} (+ in-order copy); binaries copied to {s.bin}", flush=True)
    r["backfill"] = bench_backfill_vs_parse(s, bins, data, events)
    print("backfill / parse done", flush=True)
    r["peer"] = bench_peer(s, bins, data, ordered)
    print("peer done", flush=True)
    r["memory"] = bench_memory(s, bins)
    r["load"].append(" ".join(open("/proc/loadavg").read().split()[:3]))
    rows = table_rows(r)
    print()
    print_table(rows)
    print("\n".join([""] + details_markdown(r)[2:]))
    if args.doc:
        write_doc(s, r, rows, started)
        print(f"\nwrote {args.doc}")
    if not r["peer"]["check"]["ok"]:
        print("pandas and Sluice disagree:\n  " + "\n  ".join(r["peer"]["check"]["problems"]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
