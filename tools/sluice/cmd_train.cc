// sluice train: a backfill CSV -> an XGBoost model, its holdout quality and reference profile.
#include <cmath>
#include <cstdio>
#include <fstream>

#include "args.h"
#include "commands.h"
#include "progress.h"
#include "sluice/core/number_format.h"
#include "sluice/learn/profile.h"
#include "sluice/learn/training_set.h"
#include "sluice/learn/xgb_trainer.h"
#include "sluice/spec/pipeline.h"

namespace sluice::cli {
namespace {

const char* kHelp =
    "usage: sluice train SPEC --data F.csv --label COL [--out MODEL.json] [--registry DIR]\n"
    "                    [--name NAME] [--param k=v]... [--inputs a,b,..] [--rounds N]\n"
    "                    [--early-stopping N] [--holdout FRACTION] [--predictions F.csv]\n"
    "                    [--profile-out F.json] [--json] [--quiet|--progress]\n\n"
    "Trains an XGBoost model (libxgboost) on a backfill of SPEC. Rows with an empty label are\n"
    "skipped. The latest --holdout share of rows by event time (default 0.2) is held out: early\n"
    "stopping watches its eval metric (--early-stopping rounds, default 20; at most --rounds,\n"
    "default 500) and the best iteration is kept. Reports AUC, PR-AUC (average precision) and\n"
    "logloss on the holdout. --param passes xgboost parameters (defaults: objective\n"
    "binary:logistic, eta 0.1, max_depth 6, tree_method hist). Inputs default to every feature\n"
    "of the spec. --predictions writes the holdout's event time, label and score;\n"
    "--profile-out the reference profile (per input and for the scores) drift monitoring uses.\n";

struct Outputs {
  std::string model, predictions, profile;
};

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  return static_cast<bool>(f.flush());
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  std::string s;
  core::AppendDouble(v, &s);
  return s;
}

std::string PredictionsCsv(const spec::Pipeline& p, const std::string& label,
                           const learn::TrainingSet& t, const learn::TrainResult& r) {
  std::string out = "event_time_us," + label + ",score\n";
  for (size_t i = 0; i < r.holdout_scores.size(); ++i) {
    const size_t row = r.holdout_rows[i];
    out += std::to_string(t.time_us[row]) + "," + Num(t.y[row]) + "," +
           Num(r.holdout_scores[i]) + "\n";
  }
  return out;
}

std::string ProfileOf(const learn::TrainingSet& t, const std::vector<size_t>& train_rows,
                      const learn::TrainResult& r) {
  const size_t nc = t.inputs.size();
  std::vector<float> x(train_rows.size() * nc);
  for (size_t i = 0; i < train_rows.size(); ++i)
    std::copy_n(&t.x[train_rows[i] * nc], nc, &x[i * nc]);
  std::vector<learn::ColumnProfile> cols;
  for (size_t c = 0; c < nc; ++c)
    cols.push_back(learn::ProfileColumn(t.inputs[c], x.data(), train_rows.size(), nc, c));
  cols.push_back(learn::ProfileColumn("score", r.holdout_scores.data(), r.holdout_scores.size(),
                                      1, 0));
  return learn::ProfileJson(train_rows.size(), cols);
}

std::string SummaryJson(const learn::TrainingSet& t, const learn::TrainResult& r) {
  return "{\"rows\":" + std::to_string(t.rows()) + ",\"unlabelled\":" +
         std::to_string(t.unlabelled) + ",\"train_rows\":" + std::to_string(r.train_rows) +
         ",\"holdout_rows\":" + std::to_string(r.holdout_rows.size()) +
         ",\"rounds\":" + std::to_string(r.rounds_run) +
         ",\"best_iteration\":" + std::to_string(r.best_iteration) + ",\"metric\":\"" +
         r.metric + "\",\"best_metric\":" + Num(r.best_metric) + ",\"auc\":" +
         Num(r.binary ? r.auc : NAN) + ",\"pr_auc\":" + Num(r.binary ? r.pr_auc : NAN) +
         ",\"logloss\":" + Num(r.binary ? r.logloss : NAN) + ",\"rmse\":" + Num(r.rmse) + "}";
}

void PrintSummary(const learn::TrainingSet& t, const learn::TrainResult& r) {
  std::printf("train: %zu labelled rows (%lld unlabelled skipped): %zu train, %zu holdout\n",
              t.rows(), static_cast<long long>(t.unlabelled), r.train_rows,
              r.holdout_rows.size());
  std::printf("train: %d rounds, best iteration %d (holdout %s %.6g)\n", r.rounds_run,
              r.best_iteration, r.metric.empty() ? "-" : r.metric.c_str(), r.best_metric);
  if (r.binary) {
    std::printf("holdout: auc %.4f  pr_auc %.4f  logloss %.4f\n", r.auc, r.pr_auc, r.logloss);
  } else if (!r.holdout_scores.empty()) {
    std::printf("holdout: rmse %.6g\n", r.rmse);
  }
}

}  // namespace

namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Reads the numeric and list flags into `o`; returns an error message or "".
std::string ReadOptions(const Args& args, learn::TrainOptions* o) {
  std::string err;
  if (!ParseParams(args.GetAll("param"), &o->params, &err)) return err;
  char* end = nullptr;
  const std::string rounds = args.Get("rounds", "500"), es = args.Get("early-stopping", "20"),
                    holdout = args.Get("holdout", "0.2");
  o->rounds = static_cast<int>(std::strtol(rounds.c_str(), &end, 10));
  if (*end || o->rounds < 1 || o->rounds > 100000) return "--rounds must be 1..100000";
  o->early_stopping_rounds = static_cast<int>(std::strtol(es.c_str(), &end, 10));
  if (*end || o->early_stopping_rounds < 0) return "--early-stopping must be >= 0";
  o->holdout = std::strtod(holdout.c_str(), &end);
  if (*end || !(o->holdout >= 0 && o->holdout < 1)) return "--holdout must be in [0, 1)";
  return "";
}

}  // namespace

int RunTrain(int argc, char** argv) {
  if (HelpAsked(argc, argv, kHelp)) return 0;
  Args args;
  std::string err;
  if (!args.Parse(argc, argv, 2,
                  {"data", "label", "out", "registry", "name", "param", "inputs", "rounds",
                   "early-stopping", "holdout", "predictions", "profile-out"},
                  {"json", "quiet", "progress"}, &err))
    return Fail("train", err, 2);
  if (args.positional().size() != 1) return Fail("train", "needs exactly one SPEC (see --help)", 2);
  if (!args.Has("data") || !args.Has("label"))
    return Fail("train", "--data F.csv and --label COL are required", 2);
  if (!args.Has("out") && !args.Has("registry"))
    return Fail("train", "say where the model goes: --out MODEL.json and/or --registry DIR", 2);
  learn::TrainOptions o;
  if (err = ReadOptions(args, &o); !err.empty()) return Fail("train", err, 2);
  auto p = spec::LoadPipeline(args.positional()[0]);
  if (!p.ok()) return Fail("train", p.status().message(), 2);
  auto t = learn::LoadTrainingSet(*p, args.Get("data"), args.Get("label"),
                                  SplitList(args.Get("inputs")));
  if (!t.ok()) return Fail("train", t.status().message(), 2);
  Progress bar("train", o.rounds, ProgressWanted(args.Has("progress"), args.Has("quiet")));
  o.on_round = [&](int round, double) { bar.Update(round + 1); };
  auto r = learn::Train(*t, o);
  bar.Finish();
  if (!r.ok()) {
    const bool usage = r.status().code() == core::Code::kInvalidArgument;
    return Fail("train", r.status().message(), usage ? 2 : 1);
  }
  const std::pair<std::string, std::string> files[] = {
      {args.Get("out"), r->model_json},
      {args.Get("predictions"), args.Has("predictions") ? PredictionsCsv(*p, args.Get("label"), *t, *r) : ""},
      {args.Get("profile-out"), ""}};
  for (const auto& [path, text] : files) {
    if (path.empty() || text.empty()) continue;
    if (!WriteFile(path, text)) return Fail("train", "cannot write " + path, 1);
  }
  if (args.Has("profile-out")) {
    std::vector<size_t> train_rows, holdout_rows;
    learn::SplitByTime(*t, o.holdout, &train_rows, &holdout_rows);
    if (!WriteFile(args.Get("profile-out"), ProfileOf(*t, train_rows, *r)))
      return Fail("train", "cannot write " + args.Get("profile-out"), 1);
  }
  if (args.Has("json")) {
    std::printf("%s\n", SummaryJson(*t, *r).c_str());
  } else if (!args.Has("quiet")) {
    PrintSummary(*t, *r);
  }
  return 0;
}

}  // namespace sluice::cli
