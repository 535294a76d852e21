#!/usr/bin/python3
"""Parity of `sluice predict` with python3-xgboost's own predict (the oracle), SPEC.md §1 and §4.

    check_parity.py SLUICE --workdir DIR [--only NAME] [--keep]

Trains small models with Debian's python3-xgboost over every supported booster and objective
(depths 1-12, 1-1000 trees, NaNs, categorical features, dart, gblinear, multi-class,
num_parallel_tree, early stopping), saves them as JSON (one as UBJSON), writes the test rows to
CSV, runs `sluice predict --margin` and compares every score and margin with
`Booster.predict(DMatrix)` (`output_margin=True` for margins): |a - b| <= 1e-6.
Test rows include values exactly equal to split thresholds, so `x < threshold` is exercised.

Then checks that the comparison can fail (a model with one perturbed threshold must be reported
as a mismatch) and that refused models and missing inputs give exit 2 with a message naming them.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb

TOL = 1e-6
N_TEST = 300


def make_data(rng, n, f, nan_frac=0.1):
    X = rng.normal(size=(n, f)).astype(np.float32)
    X[rng.random(size=X.shape) < nan_frac] = np.nan
    return X


def labels(rng, X, kind, k=3):
    z = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) ** 2 - np.nan_to_num(X[:, 2])
    z = z + 0.3 * rng.normal(size=len(z))
    if kind == "binary":
        return (z > 0).astype(np.float32)
    if kind == "prob":
        return (1 / (1 + np.exp(-z))).astype(np.float32)
    if kind == "count":
        return rng.poisson(np.exp(np.clip(z, -2, 1.5))).astype(np.float32)
    if kind == "multi":
        return np.digitize(z, np.quantile(z, np.linspace(0, 1, k + 1)[1:-1])).astype(np.float32)
    return z.astype(np.float32)


def thresholds(model_json):
    """Every numeric split threshold of a JSON model, by feature: test rows take some exactly."""
    out = {}
    booster = model_json["learner"]["gradient_booster"]
    model = booster["gbtree"]["model"] if booster["name"] == "dart" else booster.get("model", {})
    for t in model.get("trees", []):
        for i, left in enumerate(t["left_children"]):
            if left != -1 and t["split_type"][i] == 0:
                out.setdefault(t["split_indices"][i], []).append(t["split_conditions"][i])
    return out


def with_exact_thresholds(rng, X, model_path):
    """A copy of X where about a tenth of the cells equal one of the model's thresholds."""
    with open(model_path) as f:
        th = thresholds(json.load(f))
    X = X.copy()
    for feat, values in th.items():
        if feat >= X.shape[1]:
            continue
        rows = rng.random(size=len(X)) < 0.1
        X[rows, feat] = np.float32(rng.choice(values, size=rows.sum()))
    return X


def write_csv(path, df):
    """Floats as repr of their float32 value (parses back to the same float); NaN as empty."""
    with open(path, "w") as f:
        f.write(",".join(df.columns) + "\n")
        cols = [df[c].to_numpy() for c in df.columns]
        for r in range(len(df)):
            cells = []
            for col in cols:
                v = col[r]
                cells.append("" if pd.isna(v) else repr(float(v)))
            f.write(",".join(cells) + "\n")


def read_csv(path):
    return pd.read_csv(path, dtype=np.float64)


class Case:
    def __init__(self, name, params, rounds, kind="binary", n=600, f=6, categorical=False,
                 names=False, ubj=False, early_stop=False, positional=False):
        self.__dict__.update(locals())
        del self.__dict__["self"]


CASES = [
    Case("logistic_d1_t1", {"objective": "binary:logistic", "max_depth": 1}, 1),
    Case("logistic_d6_t100", {"objective": "binary:logistic", "max_depth": 6}, 100, names=True),
    Case("logistic_base03", {"objective": "binary:logistic", "max_depth": 3, "base_score": 0.3}, 20),
    Case("logitraw_d4", {"objective": "binary:logitraw", "max_depth": 4}, 30, ubj=True),
    Case("squarederror_d12", {"objective": "reg:squarederror", "max_depth": 12, "eta": 0.3}, 25,
         kind="reg", n=2000),
    Case("squarederror_d10", {"objective": "reg:squarederror", "max_depth": 10}, 15, kind="reg",
         n=1500, positional=True),
    Case("reg_logistic_d3", {"objective": "reg:logistic", "max_depth": 3}, 20, kind="prob"),
    Case("absoluteerror_d5", {"objective": "reg:absoluteerror", "max_depth": 5}, 40, kind="reg"),
    Case("poisson_d4", {"objective": "count:poisson", "max_depth": 4}, 50, kind="count"),
    Case("softprob_k4_d5", {"objective": "multi:softprob", "num_class": 4, "max_depth": 5}, 30,
         kind="multi4"),
    Case("softmax_k3_d3", {"objective": "multi:softmax", "num_class": 3, "max_depth": 3}, 20,
         kind="multi3"),
    Case("pairwise_d4", {"objective": "rank:pairwise", "max_depth": 4}, 30, kind="rank"),
    Case("dart_d4", {"booster": "dart", "objective": "binary:logistic", "max_depth": 4,
                     "rate_drop": 0.3, "skip_drop": 0.0}, 40),
    Case("dart_multi", {"booster": "dart", "objective": "multi:softprob", "num_class": 3,
                        "max_depth": 3, "rate_drop": 0.2}, 15, kind="multi3"),
    Case("gblinear_reg", {"booster": "gblinear", "objective": "reg:squarederror"}, 30, kind="reg"),
    Case("gblinear_softprob", {"booster": "gblinear", "objective": "multi:softprob",
                               "num_class": 3}, 20, kind="multi3", names=True),
    Case("parallel_trees", {"objective": "multi:softprob", "num_class": 3, "max_depth": 4,
                            "num_parallel_tree": 3, "subsample": 0.8}, 5, kind="multi3"),
    Case("trees_1000_d2", {"objective": "binary:logistic", "max_depth": 2, "eta": 0.05}, 1000,
         n=400),
    Case("depth8_lossguide", {"objective": "reg:squarederror", "tree_method": "hist",
                              "grow_policy": "lossguide", "max_leaves": 40, "max_depth": 0}, 10,
         kind="reg", n=1500),
    Case("categorical_partition", {"objective": "binary:logistic", "tree_method": "hist",
                                   "max_depth": 5, "max_cat_to_onehot": 1}, 30, categorical=True),
    Case("categorical_onehot", {"objective": "reg:squarederror", "tree_method": "hist",
                                "max_depth": 4, "max_cat_to_onehot": 64}, 20, kind="reg",
         categorical=True),
    Case("early_stopping", {"objective": "binary:logistic", "max_depth": 3, "eta": 0.5}, 200,
         early_stop=True),
]


def frame(X, categorical, rng):
    """The test DataFrame: numeric columns a..; with categorical, two category columns too."""
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    if categorical:
        for name, k in (("city", 7), ("kind", 40)):
            codes = rng.integers(0, k, size=len(df))
            cat = pd.Categorical.from_codes(codes, categories=[f"{name}{i}" for i in range(k)])
            cat[rng.random(size=len(df)) < 0.08] = np.nan
            df[name] = cat
    return df


def train(case, rng, workdir):
    n_all = case.n + N_TEST
    X = make_data(rng, n_all, case.f)
    kind = case.kind
    k = int(case.params.get("num_class", 0))
    y = labels(rng, X, "multi" if kind.startswith("multi") else kind, k or 3)
    df = frame(X, case.categorical, rng)
    if case.categorical:  # make the categories matter
        y = y + (df["city"].cat.codes.to_numpy() % 3 == 0) * (1.0 if kind == "reg" else 0)
        if kind == "binary":
            y = ((y + (df["kind"].cat.codes.to_numpy() % 4 == 1)) > 0.5).astype(np.float32)
    train_df, test_df = df.iloc[: case.n], df.iloc[case.n:].reset_index(drop=True)
    use_names = case.names or case.categorical
    Xtr = train_df if use_names else train_df.to_numpy(np.float32)
    dtrain = xgb.DMatrix(Xtr, y[: case.n], enable_categorical=case.categorical)
    if kind == "rank":
        dtrain.set_group([case.n // 20] * 20)
    params = dict(case.params, nthread=1, seed=1)
    kwargs = {}
    if case.early_stop:
        dvalid = xgb.DMatrix(test_df.to_numpy(np.float32), y[case.n:])
        kwargs = {"evals": [(dvalid, "v")], "early_stopping_rounds": 5, "verbose_eval": False}
    booster = xgb.train(params, dtrain, case.rounds, **kwargs)
    path = os.path.join(workdir, case.name + (".ubj" if case.ubj else ".json"))
    booster.save_model(path)
    if case.early_stop:
        assert booster.attr("best_iteration") is not None
    return booster, path, test_df, use_names


def oracle(booster, test_df, categorical, use_names):
    data = test_df if use_names else test_df.to_numpy(np.float32)
    d = xgb.DMatrix(data, enable_categorical=categorical)
    score = booster.predict(d)
    margin = booster.predict(d, output_margin=True)
    return score.reshape(len(test_df), -1), margin.reshape(len(test_df), -1)


def run_sluice(sluice, model, csv, out, margin=True):
    cmd = [sluice, "predict", "--model", model, "--input", csv, "--output", out]
    if margin:
        cmd.append("--margin")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def compare(name, got, score, margin):
    """Returns a list of mismatch descriptions (empty when every value agrees)."""
    k, g = score.shape[1], margin.shape[1]
    want_cols = (["score"] if k == 1 else [f"score_{i}" for i in range(k)]) + \
                (["margin"] if g == 1 else [f"margin_{i}" for i in range(g)])
    if list(got.columns) != want_cols:
        return [f"{name}: columns {list(got.columns)}, expected {want_cols}"]
    if len(got) != len(score):
        return [f"{name}: {len(got)} rows, expected {len(score)}"]
    want = np.hstack([score, margin]).astype(np.float64)
    diff = np.abs(got.to_numpy() - want)
    bad = np.argwhere(~(diff <= TOL))
    return [f"{name}: row {r} {want_cols[c]}: sluice {got.iat[r, c]!r} xgboost {want[r, c]!r}"
            for r, c in bad[:5]] + ([f"{name}: {len(bad)} mismatches"] if len(bad) else [])


def test_input(case, rng, test_df, path, use_names):
    """The CSV the CLI reads: model input names (or positional names), shuffled, an extra column,
    a tenth of the cells set exactly to thresholds, category columns as their codes."""
    df = test_df.copy()
    if path.endswith(".json"):
        num = [c for c in df.columns if not str(df[c].dtype) == "category"]
        arr = with_exact_thresholds(rng, df[num].to_numpy(np.float32), path)
        df[num] = arr
    out = pd.DataFrame({c: (df[c].cat.codes.replace(-1, np.nan).astype(np.float64)
                            if str(df[c].dtype) == "category" else df[c]) for c in df.columns})
    if not use_names:
        out.columns = [f"c{i}" if case.positional else f"f{i}" for i in range(out.shape[1])]
    if not case.positional:
        out = out[list(reversed(out.columns))]
        out.insert(1, "unused_extra", 7.0)
    return df, out


def check_case(case, sluice, workdir, rng):
    booster, path, test_df, use_names = train(case, rng, workdir)
    df, csv_df = test_input(case, rng, test_df, path, use_names)
    score, margin = oracle(booster, df, case.categorical, use_names)
    csv = os.path.join(workdir, case.name + ".csv")
    out = os.path.join(workdir, case.name + ".out.csv")
    write_csv(csv, csv_df)
    p = run_sluice(sluice, path, csv, out)
    if p.returncode != 0:
        return [f"{case.name}: sluice predict exited {p.returncode}: {p.stderr.strip()}"], path, csv
    return compare(case.name, read_csv(out), score, margin), path, csv


def check_can_fail(sluice, workdir, model_path, csv):
    """The comparison must notice a wrong model: move the root threshold of the first tree past
    every value, so that split sends all rows left."""
    with open(model_path) as f:
        m = json.load(f)
    booster = m["learner"]["gradient_booster"]
    tree = booster["model"]["trees"][0]
    tree["split_conditions"][0] = 1e30
    bad_path = os.path.join(workdir, "perturbed.json")
    with open(bad_path, "w") as f:
        json.dump(m, f)
    good = xgb.Booster(model_file=model_path)
    df = pd.read_csv(csv)
    names = good.feature_names or [f"f{i}" for i in range(good.num_features())]
    X = df[names].to_numpy(np.float32)
    d = xgb.DMatrix(X, feature_names=good.feature_names)
    score = good.predict(d).reshape(len(df), -1)
    margin = good.predict(d, output_margin=True).reshape(len(df), -1)
    out = os.path.join(workdir, "perturbed.out.csv")
    p = run_sluice(sluice, bad_path, csv, out)
    if p.returncode != 0:
        return [f"perturbed model: sluice exited {p.returncode}: {p.stderr.strip()}"]
    found = compare("perturbed", read_csv(out), score, margin)
    if not found:
        return ["perturbed model: a changed threshold went unnoticed (the comparison cannot fail)"]
    print(f"PASS can fail: perturbed threshold reported ({found[-1]})")
    return []


def check_refused(sluice, workdir, model_path, csv):
    """Unsupported models and missing inputs: exit 2 with a message naming what is wrong."""
    failures = []
    with open(model_path) as f:
        base = f.read()
    edits = [
        ("unknown objective", '"binary:logistic"', '"reg:tweedie"', "'reg:tweedie'"),
        ("unknown booster", '"name":"gbtree"', '"name":"gbforest"', "'gbforest'"),
        ("unknown split type", '"split_type":[0', '"split_type":[3', "unsupported split type 3"),
        ("not JSON", '{"learner"', '{"learner" nonsense', "not valid JSON"),
    ]
    for what, old, new, want in edits:
        assert old in base, (what, old)
        path = os.path.join(workdir, "refused.json")
        with open(path, "w") as f:
            f.write(base.replace(old, new, 1))
        p = run_sluice(sluice, path, csv, os.path.join(workdir, "refused.out.csv"))
        ok = p.returncode == 2 and want in p.stderr and path in p.stderr
        print(("PASS " if ok else "FAIL ") + f"refused: {what}: exit {p.returncode}, {p.stderr.strip()}")
        if not ok:
            failures.append(f"refused {what}")
    short = os.path.join(workdir, "short.csv")
    pd.read_csv(csv).drop(columns=["x2"]).to_csv(short, index=False)
    p = run_sluice(sluice, model_path, short, os.path.join(workdir, "short.out.csv"))
    ok = p.returncode == 2 and "x2" in p.stderr
    print(("PASS " if ok else "FAIL ") + f"missing input column: exit {p.returncode}, {p.stderr.strip()}")
    if not ok:
        failures.append("missing input column")
    p = run_sluice(sluice, os.path.join(workdir, "nope.json"), csv, os.path.join(workdir, "x.csv"))
    ok = p.returncode == 1 and "cannot open" in p.stderr
    print(("PASS " if ok else "FAIL ") + f"missing model file: exit {p.returncode}")
    if not ok:
        failures.append("missing model file")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sluice")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--only", help="run the case with this name only")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    rng = np.random.default_rng(7)
    failures = []
    named = None
    for case in CASES:
        if args.only and case.name != args.only:
            continue
        t0 = time.time()
        found, path, csv = check_case(case, args.sluice, args.workdir, rng)
        print(("PASS " if not found else "FAIL ") + f"{case.name} ({time.time() - t0:.1f}s)")
        for line in found:
            print("  " + line)
        failures += found
        if case.name == "logistic_d6_t100":
            named = (path, csv)
    if named:
        failures += check_can_fail(args.sluice, args.workdir, *named)
        failures += check_refused(args.sluice, args.workdir, *named)
    if failures:
        print(f"FAIL: {len(failures)} problem(s)")
        return 1
    print("OK: sluice predict matches xgboost on every case")
    return 0


if __name__ == "__main__":
    sys.exit(main())
