#!/usr/bin/env python3
"""sluice train, checked against independent oracles on generated fraud data.

gen -> backfill (labels joined) -> train, then:
  * the holdout AUC is at least 0.9 (fraud is learnable from the example spec's features);
  * scikit-learn's roc_auc_score, average_precision_score and log_loss on the written holdout
    predictions equal what train reported;
  * the saved model, loaded by python3-xgboost, predicts the same scores for the holdout rows;
  * the holdout is the latest part by event time, and early stopping kept the best iteration;
  * with --registry and --alias the version is registered with its metrics, the training set's
    SHA-256 and the spec's hash, and the alias points at it;
  * a spec whose model block names that registry passes `sluice check`, and `sluice backfill`
    scores every event: on the holdout rows the scores equal train's own predictions (the
    evaluator against libxgboost, training/serving consistency), and scikit-learn's AUC of the
    backfill's scores over the holdout equals the reported AUC;
  * a spec that lacks one of the model's inputs is refused by check and backfill, naming it;
  * bad input (missing column, non-numeric cell, no labels) fails with exit 2 and a clear message.
"""
import hashlib
import argparse
import json
import os
import shutil
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from testlib import SPEC, check, finish, run  # noqa: E402




def train_and_compare(sluice, work, events):
    ev, lab = os.path.join(work, "events.jsonl"), os.path.join(work, "labels.jsonl")
    feat = os.path.join(work, "features.csv")
    run([sluice, "gen", "fraud", "--events", str(events), "--seed", "7", "--out", ev,
         "--labels-out", lab])
    run([sluice, "backfill", SPEC, "--input", ev, "--labels", lab, "--output", feat,
         "--dead-letter", os.path.join(work, "dead.jsonl"), "--quiet", "--threads", "2",
         "--no-score"])
    model, pred = os.path.join(work, "model.json"), os.path.join(work, "pred.csv")
    prof = os.path.join(work, "profile.json")
    registry = os.path.join(work, "registry")
    if os.path.exists(registry):
        shutil.rmtree(registry)
    r = run([sluice, "train", SPEC, "--data", feat, "--label", "is_fraud", "--out", model,
             "--predictions", pred, "--profile-out", prof, "--json", "--quiet",
             "--registry", registry, "--alias", "production"])
    s = json.loads(r.stdout)
    print("train:", s)
    p = pd.read_csv(pred)
    check(len(p) == s["holdout_rows"], "one prediction per holdout row")
    check(s["auc"] >= 0.9, f"holdout AUC {s['auc']:.4f} >= 0.9")
    y, score = p["is_fraud"].values, p["score"].values
    check(abs(roc_auc_score(y, score) - s["auc"]) <= 1e-9, "AUC equals scikit-learn roc_auc_score")
    check(abs(average_precision_score(y, score) - s["pr_auc"]) <= 1e-9,
          "PR-AUC equals scikit-learn average_precision_score")
    check(abs(log_loss(y, score) - s["logloss"]) <= 1e-9, "logloss equals scikit-learn log_loss")

    d = pd.read_csv(feat)
    d = d[d["is_fraud"].notna()]
    check(len(d) == s["rows"], "every labelled row is used")
    order = np.argsort(d["ts"].values, kind="stable")
    d = d.iloc[order]
    hold = d.iloc[len(d) - s["holdout_rows"]:]
    check(hold["ts"].min() >= d.iloc[:len(d) - s["holdout_rows"]]["ts"].max(),
          "holdout rows are the latest by event time")
    b = xgb.Booster()
    b.load_model(model)
    check(b.num_boosted_rounds() == s["best_iteration"] + 1, "the model keeps the best iteration")
    X = hold.drop(columns=["txn_id", "ts", "is_fraud"])
    q = b.predict(xgb.DMatrix(X))
    check(float(np.max(np.abs(q - score))) <= 1e-6, "xgboost predicts the same holdout scores")
    check(s["rounds"] < 500 and s["rounds"] == s["best_iteration"] + 21,
          "early stopping after 20 rounds without improvement")
    profile = json.load(open(prof))
    names = [c["name"] for c in profile["columns"]]
    check(names == list(X.columns) + ["score"], "profile covers every input and the score")
    col = profile["columns"][0]
    train_part = d.iloc[:len(d) - s["holdout_rows"]][names[0]].astype("float32").astype(float)
    check(abs(col["mean"] - train_part.mean()) <= 1e-9 * max(1, abs(train_part.mean())),
          "profile mean matches pandas on the training rows")
    check_registered(sluice, registry, feat, s, prof)
    check_scoring(sluice, work, registry, ev, s, p)
    return feat


def check_registered(sluice, registry, feat, s, prof):
    r = run([sluice, "models", "show", "--registry", registry, "--name", "fraud", "--version", "1",
             "--json"])
    v = json.loads(r.stdout)
    check(v["version"] == s["version"] == 1, "train registered version 1")
    check("production" in v["aliases"], "--alias production points at it")
    check(v["training_digest"] == hashlib.sha256(open(feat, "rb").read()).hexdigest(),
          "the version records the training set's SHA-256")
    check(v["spec_hash"] == hashlib.sha256(open(SPEC, "rb").read()).hexdigest(),
          "the version records the spec's hash")
    check(abs(v["metrics"]["auc"] - s["auc"]) == 0 and v["params"]["max_depth"] == "6",
          "the version records the holdout metrics and the parameters")
    check(v["profile_sha256"] == hashlib.sha256(open(prof, "rb").read()).hexdigest(),
          "the version records the reference profile")


def spec_with_registry(work, registry, drop=None):
    """The example spec with its model block pointing at the test's registry."""
    lines = []
    for line in open(SPEC).read().splitlines():
        if line.startswith("model:"):
            line = "model: {registry: %s, name: fraud, alias: production}" % registry
        if drop and line.strip().startswith("- {name: %s," % drop):
            continue
        lines.append(line)
    path = os.path.join(work, "spec_%s.yaml" % (drop or "scored"))
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def check_scoring(sluice, work, registry, ev, s, pred):
    spec = spec_with_registry(work, registry)
    r = run([sluice, "check", spec])
    check("model ok" in r.stdout and "fraud v1" in r.stdout, "check resolves and accepts the model")
    scored = os.path.join(work, "scored.csv")
    run([sluice, "backfill", spec, "--input", ev, "--output", scored, "--quiet", "--threads", "2",
         "--dead-letter", os.path.join(work, "dead2.jsonl")])
    d = pd.read_csv(scored)
    check(list(d.columns)[-1] == "score" and d["score"].notna().all(),
          "backfill with a model writes a score for every event")
    feat = pd.read_csv(os.path.join(work, "features.csv"))
    d["is_fraud"] = feat["is_fraud"].values
    d = d[d["is_fraud"].notna()].iloc[np.argsort(d[d["is_fraud"].notna()]["ts"].values,
                                                 kind="stable")]
    hold = d.iloc[len(d) - s["holdout_rows"]:]
    diff = float(np.max(np.abs(hold["score"].values - pred["score"].values)))
    check(diff <= 1e-6, f"backfill scores equal train's holdout predictions (max diff {diff:.2e})")
    check(abs(roc_auc_score(hold["is_fraud"], hold["score"]) - s["auc"]) <= 1e-6,
          "scikit-learn's AUC of the backfill's holdout scores equals the reported AUC")
    bad = spec_with_registry(work, registry, drop="hour_of_day")
    r = run([sluice, "check", bad], expect=2)
    check("hour_of_day" in r.stderr, "check refuses a spec missing a model input, naming it")
    r = run([sluice, "backfill", bad, "--input", ev, "--output", os.path.join(work, "x.csv")],
            expect=2)
    check("hour_of_day" in r.stderr, "backfill refuses it too")


def bad_inputs(sluice, work, feat):
    # Without a model block, so that nothing here can register into the repository's registry.
    spec = os.path.join(work, "spec_no_model.yaml")
    open(spec, "w").write("\n".join(l for l in open(SPEC).read().splitlines()
                                    if not l.startswith("model:")) + "\n")
    bad = os.path.join(work, "bad.csv")
    lines = open(feat).read().splitlines()
    header = lines[0].split(",")
    cases = []
    open(bad, "w").write("\n".join([",".join(h for h in header if h != "u_gap_s")] +
                                   [",".join(c for h, c in zip(header, l.split(","))
                                             if h != "u_gap_s") for l in lines[1:50]]) + "\n")
    cases.append(("missing column", "u_gap_s"))
    r = run([sluice, "train", spec, "--data", bad, "--label", "is_fraud", "--out",
             os.path.join(work, "x.json")], expect=2)
    check("missing column(s): u_gap_s" in r.stderr, "a missing input column is named")
    row = lines[1].split(",")
    row[header.index("u_cnt_1h")] = "many"
    open(bad, "w").write("\n".join([lines[0], ",".join(row)]) + "\n")
    r = run([sluice, "train", spec, "--data", bad, "--label", "is_fraud", "--out",
             os.path.join(work, "x.json")], expect=2)
    check("bad.csv:2" in r.stderr and "u_cnt_1h" in r.stderr,
          "a non-numeric cell is reported with its line and column")
    r = run([sluice, "train", spec, "--data", feat, "--label", "no_such", "--out",
             os.path.join(work, "x.json")], expect=2)
    check("no_such" in r.stderr, "an unknown label column is named")
    r = run([sluice, "train", spec, "--data", feat, "--label", "is_fraud"], expect=2)
    check("--out" in r.stderr, "train refuses to run with nowhere to put the model")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--events", type=int, default=150000)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    feat = train_and_compare(a.sluice, a.workdir, a.events)
    bad_inputs(a.sluice, a.workdir, feat)
    finish()


if __name__ == "__main__":
    main()
