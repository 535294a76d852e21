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
#include "sluice/models/file_util.h"
#include "sluice/models/registry.h"
#include "sluice/models/sha256.h"
#include "sluice/spec/pipeline.h"

namespace sluice::cli {
namespace {

const char* kHelp =
    "usage: sluice train SPEC --data F.csv --label COL [--out MODEL.json] [--registry DIR]\n"
    "                    [--name NAME] [--alias A] [--parent V] [--reason TEXT] [--by USER]\n"
    "                    [--param k=v]... [--inputs a,b,..] [--rounds N]\n"
    "                    [--early-stopping N] [--holdout FRACTION] [--predictions F.csv]\n"
    "                    [--profile-out F.json] [--json] [--quiet|--progress]\n\n"
    "Trains an XGBoost model (libxgboost) on a backfill of SPEC. Rows with an empty label are\n"
    "skipped. The latest --holdout share of rows by event time (default 0.2) is held out: early\n"
    "stopping watches its eval metric (--early-stopping rounds, default 20; at most --rounds,\n"
    "default 500) and the best iteration is kept. Reports AUC, PR-AUC (average precision) and\n"
    "logloss on the holdout. --param passes xgboost parameters (defaults: objective\n"
    "binary:logistic, eta 0.1, max_depth 6, tree_method hist). Inputs default to every feature\n"
    "of the spec. --predictions writes the holdout's event time, label and score;\n"
    "--profile-out the reference profile (per input and for the scores) drift monitoring uses.\n"
    "--registry DIR (default: the spec's model.registry) registers the model as the next version\n"
    "of --name (default: the spec's model.name, else its name) with its parameters, holdout\n"
    "metrics, the spec's hash, the training set's SHA-256, the profile, and as parent --parent V\n"
    "or the version the production alias points at; prints the version. --alias A then points\n"
    "alias A (e.g. production) at it; otherwise promote later with `sluice models alias`.\n";

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
         std::to_string(t.unlabelled) + ",\"train_rows\":" + std::to_string(r.train_rows.size()) +
         ",\"holdout_rows\":" + std::to_string(r.holdout_rows.size()) +
         ",\"rounds\":" + std::to_string(r.rounds_run) +
         ",\"best_iteration\":" + std::to_string(r.best_iteration) + ",\"metric\":\"" +
         r.metric + "\",\"best_metric\":" + Num(r.best_metric) + ",\"auc\":" +
         Num(r.binary ? r.auc : NAN) + ",\"pr_auc\":" + Num(r.binary ? r.pr_auc : NAN) +
         ",\"logloss\":" + Num(r.binary ? r.logloss : NAN) + ",\"rmse\":" + Num(r.rmse) + "}";
}

void PrintSummary(const learn::TrainingSet& t, const learn::TrainResult& r) {
  std::printf("train: %zu labelled rows (%lld unlabelled skipped): %zu train, %zu holdout\n",
              t.rows(), static_cast<long long>(t.unlabelled), r.train_rows.size(),
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

// xgboost's parameters as used, plus the training loop's own.
std::vector<std::pair<std::string, std::string>> ParamsOf(const learn::TrainOptions& o,
                                                          const learn::TrainResult& r) {
  auto out = r.params;
  out.emplace_back("rounds", std::to_string(o.rounds));
  out.emplace_back("early_stopping_rounds", std::to_string(o.early_stopping_rounds));
  out.emplace_back("holdout", Num(o.holdout));
  return out;
}

// Registers the trained model; returns the version or an error.
core::Result<models::ModelVersion> Register(const Args& args, const spec::Pipeline& p,
                                            const std::string& registry, const learn::TrainingSet& t,
                                            const learn::TrainOptions& o,
                                            const learn::TrainResult& r, std::string profile) {
  auto reg = models::Registry::Open(registry);
  if (!reg.ok()) return reg.status();
  models::NewVersion v;
  v.name = args.Get("name", p.model && !p.model->name.empty() ? p.model->name : p.name);
  v.artifact = r.model_json;
  auto spec_text = models::ReadWholeFile(p.spec_path);
  if (!spec_text.ok()) return spec_text.status();
  v.spec_hash = models::Sha256Hex(*spec_text);
  auto digest = models::Sha256OfFile(args.Get("data"));
  if (!digest.ok()) return digest.status();
  v.training_digest = *digest;
  v.params = ParamsOf(o, r);
  v.metrics_json = SummaryJson(t, r);
  v.profile = std::move(profile);
  if (args.Has("parent")) {
    char* end = nullptr;
    v.parent = std::strtoll(args.Get("parent").c_str(), &end, 10);
    if (*end || *v.parent < 1) return core::Status::InvalidArgument("--parent must be a version");
  } else if (auto prod = (*reg)->Resolve(v.name, "production"); prod.ok()) {
    v.parent = prod->version;
  }
  v.created_by = Who(args.Get("by"));
  v.reason = args.Get("reason", "sluice train");
  auto m = (*reg)->Register(v);
  if (!m.ok() || !args.Has("alias")) return m;
  auto c = (*reg)->SetAlias(m->name, args.Get("alias"), m->version, v.created_by, v.reason);
  if (!c.ok()) return c.status();
  return m;
}

std::string RegistryDir(const Args& args, const spec::Pipeline& p) {
  if (args.Has("registry")) return args.Get("registry");
  return p.model ? p.model->registry : "";  // resolved against the spec's folder
}

}  // namespace

int RunTrain(int argc, char** argv) {
  if (HelpAsked(argc, argv, kHelp)) return 0;
  Args args;
  std::string err;
  if (!args.Parse(argc, argv, 2,
                  {"data", "label", "out", "registry", "name", "alias", "parent", "reason", "by", "param",
                   "inputs", "rounds", "early-stopping", "holdout", "predictions", "profile-out"},
                  {"json", "quiet", "progress"}, &err))
    return Fail("train", err, 2);
  if (args.positional().size() != 1) return Fail("train", "needs exactly one SPEC (see --help)", 2);
  if (!args.Has("data") || !args.Has("label"))
    return Fail("train", "--data F.csv and --label COL are required", 2);
  learn::TrainOptions o;
  if (err = ReadOptions(args, &o); !err.empty()) return Fail("train", err, 2);
  auto p = spec::LoadPipeline(args.positional()[0]);
  if (!p.ok()) return Fail("train", p.status().message(), 2);
  const std::string registry = RegistryDir(args, *p);
  if (!args.Has("out") && registry.empty())
    return Fail("train", "say where the model goes: --out MODEL.json and/or --registry DIR", 2);
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
  std::string profile = ProfileOf(*t, r->train_rows, *r);
  if (args.Has("profile-out") && !WriteFile(args.Get("profile-out"), profile))
    return Fail("train", "cannot write " + args.Get("profile-out"), 1);
  std::string summary = SummaryJson(*t, *r);
  if (!args.Has("json") && !args.Has("quiet")) PrintSummary(*t, *r);
  if (!registry.empty()) {
    auto v = Register(args, *p, registry, *t, o, *r, std::move(profile));
    if (!v.ok()) {
      const bool usage = v.status().code() == core::Code::kInvalidArgument;
      return Fail("train", v.status().message(), usage ? 2 : 1);
    }
    summary.pop_back();
    summary += ",\"name\":\"" + v->name + "\",\"version\":" + std::to_string(v->version) + "}";
    if (!args.Has("json") && !args.Has("quiet")) {
      std::printf("registered %s version %lld in %s%s\n", v->name.c_str(),
                  static_cast<long long>(v->version), registry.c_str(),
                  args.Has("alias") ? (", alias " + args.Get("alias")).c_str() : "");
    }
  }
  if (args.Has("json")) std::printf("%s\n", summary.c_str());
  return 0;
}

}  // namespace sluice::cli
