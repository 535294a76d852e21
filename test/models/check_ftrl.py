#!/usr/bin/python3
"""Sluice's FtrlLearner against ftrl_oracle.py (Algorithm 1 transcribed from the paper) on the
same generated stream: every prediction and every final weight within 1e-9 * max(1, |oracle|),
for sparse and dense updates and several parameter sets. A sensitivity check then perturbs the
oracle (alpha x 1.001) and requires the comparison to notice, so the test can fail.

    check_ftrl.py FTRL_DRIVER WORKDIR [--examples N]
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ftrl_oracle import FtrlProximal  # noqa: E402

TOL = 1e-9
PARAMS = [  # alpha, beta, l1, l2, bias
    (0.1, 1.0, 1.0, 1.0, True),
    (0.5, 0.0, 0.0, 0.0, True),
    (0.05, 2.0, 3.0, 0.5, False),
]


def make_stream(seed, n, dim):
    """Sparse examples: 1-20 distinct sorted indices (skewed), normal values, logistic labels."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(0, 1, dim) * (rng.random(dim) < 0.3)
    out = []
    for _ in range(n):
        k = int(rng.integers(1, 21))
        idx = np.unique(np.minimum(rng.zipf(1.3, k) - 1, dim - 1))
        val = rng.normal(0, 1, len(idx))
        val[rng.random(len(idx)) < 0.2] = 1.0
        p = 1.0 / (1.0 + np.exp(-(val @ truth[idx] - 0.5)))
        out.append(([(int(i), float(v)) for i, v in zip(idx, val)], float(rng.random() < p)))
    return out


def write_csvs(stream, dim, sparse_path, dense_path):
    with open(sparse_path, "w") as s, open(dense_path, "w") as d:
        for x, y in stream:
            s.write(f"{y:.17g}," + ",".join(f"{i}:{v:.17g}" for i, v in x) + "\n")
            row = [""] * dim
            for i, v in x:
                row[i] = f"{v:.17g}"
            d.write(f"{y:.17g}," + ",".join(row) + "\n")


def close(a, b):
    return abs(a - b) <= TOL * max(1.0, abs(b))


def compare(what, got, want):
    if len(got) != len(want):
        return [f"{what}: {len(got)} values, oracle has {len(want)}"]
    bad = [i for i, (a, b) in enumerate(zip(got, want)) if not close(a, b)]
    return [f"{what}[{i}]: sluice {got[i]!r}, oracle {want[i]!r}" for i in bad[:5]]


def read_floats(path):
    with open(path) as f:
        return [float(line) for line in f if line.strip()]


def run_oracle(stream, dim, params, alpha_scale=1.0):
    alpha, beta, l1, l2, bias = params
    o = FtrlProximal(dim, alpha * alpha_scale, beta, l1, l2, bias)
    preds = [o.learn(x, y) for x, y in stream]
    return preds, o.weights()


def run_driver(driver, work, tag, params, dim, path, dense):
    alpha, beta, l1, l2, bias = params
    preds, weights = os.path.join(work, f"{tag}.p"), os.path.join(work, f"{tag}.w")
    cmd = [driver, "--dim", str(dim), "--alpha", repr(alpha), "--beta", repr(beta), "--l1",
           repr(l1), "--l2", repr(l2), "--input", path, "--predictions", preds, "--weights", weights]
    cmd += ([] if bias else ["--no-bias"]) + (["--dense"] if dense else [])
    subprocess.run(cmd, check=True)
    return read_floats(preds), read_floats(weights)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("driver")
    ap.add_argument("workdir")
    ap.add_argument("--examples", type=int, default=4000)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    dim = 64
    stream = make_stream(2013, args.examples, dim)
    sparse, dense = (os.path.join(args.workdir, n) for n in ("stream_sparse.csv", "stream_dense.csv"))
    write_csvs(stream, dim, sparse, dense)
    failures, max_err = [], 0.0
    for k, params in enumerate(PARAMS):
        want_p, want_w = run_oracle(stream, dim, params)
        nonzero = sum(1 for w in want_w if w != 0.0)
        for mode, path in (("sparse", sparse), ("dense", dense)):
            got_p, got_w = run_driver(args.driver, args.workdir, f"{mode}{k}", params, dim, path,
                                      mode == "dense")
            errs = compare(f"{params} {mode} p", got_p, want_p) + compare(
                f"{params} {mode} w", got_w, want_w)
            max_err = max([max_err] + [abs(a - b) for a, b in zip(got_w + got_p, want_w + want_p)])
            print(("FAIL " if errs else "PASS ") + f"params {params} {mode}: {len(got_p)} "
                  f"predictions, {len(got_w)} weights ({nonzero} non-zero)")
            failures += errs
        if k == 0:  # sensitivity: a slightly different learner must not pass
            bad_p, bad_w = run_oracle(stream, dim, params, alpha_scale=1.001)
            if not compare("perturbed", got_w, bad_w):
                failures.append("a perturbed oracle (alpha x 1.001) also matched: check is blind")
            else:
                print("PASS the comparison notices alpha x 1.001")
    print(f"largest |sluice - oracle| over predictions and weights: {max_err:.3g}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
