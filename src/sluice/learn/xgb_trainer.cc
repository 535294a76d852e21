#include "sluice/learn/xgb_trainer.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <limits>
#include <memory>
#include <thread>

#include "sluice/learn/metrics.h"

namespace sluice::learn {
namespace {

using core::Result;
using core::Status;

Status XgbError(const char* what) {
  return Status::Internal(std::string("xgboost: ") + what + ": " + XGBGetLastError());
}

struct DMatrixFree {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterFree {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using DMatrix = std::unique_ptr<void, DMatrixFree>;
using Booster = std::unique_ptr<void, BoosterFree>;

// A DMatrix of the given rows, with labels and feature names.
Result<DMatrix> MakeMatrix(const TrainingSet& t, const std::vector<size_t>& rows) {
  const size_t nc = t.inputs.size();
  std::vector<float> x(rows.size() * nc), y(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(&t.x[rows[i] * nc], nc, &x[i * nc]);
    y[i] = t.y[rows[i]];
  }
  DMatrixHandle h = nullptr;
  if (XGDMatrixCreateFromMat(x.data(), rows.size(), nc, std::numeric_limits<float>::quiet_NaN(),
                             &h) != 0)
    return XgbError("creating the training matrix");
  DMatrix m(h);
  if (XGDMatrixSetFloatInfo(h, "label", y.data(), y.size()) != 0) return XgbError("labels");
  std::vector<const char*> names;
  for (const auto& n : t.inputs) names.push_back(n.c_str());
  if (XGDMatrixSetStrFeatureInfo(h, "feature_name", names.data(), names.size()) != 0)
    return XgbError("feature names");
  return m;
}

std::vector<std::pair<std::string, std::string>> EffectiveParams(const TrainOptions& o) {
  std::vector<std::pair<std::string, std::string>> p = {
      {"objective", "binary:logistic"}, {"eta", "0.1"},   {"max_depth", "6"},
      {"tree_method", "hist"},          {"seed", "0"},    {"verbosity", "0"},
      {"nthread", std::to_string(std::max(1u, std::thread::hardware_concurrency()))}};
  for (const auto& kv : o.params) {
    bool replaced = false;
    for (auto& d : p) {
      if (d.first == kv.first && kv.first != "eval_metric") {
        d.second = kv.second;
        replaced = true;
      }
    }
    if (!replaced) p.push_back(kv);
  }
  return p;
}

// "[12]\tholdout-logloss:0.1234\tholdout-auc:0.9" -> the last metric (xgboost's early stopping
// watches the last one too).
bool LastMetric(const char* eval, std::string* name, double* value) {
  const std::string s(eval);
  const size_t colon = s.rfind(':'), dash = s.rfind('-', colon);
  if (colon == std::string::npos || dash == std::string::npos) return false;
  *name = s.substr(dash + 1, colon - dash - 1);
  *value = std::strtod(s.c_str() + colon + 1, nullptr);
  return true;
}

bool Maximize(const std::string& metric) {
  for (const char* m : {"auc", "aucpr", "map", "ndcg", "pre"}) {
    if (metric.rfind(m, 0) == 0) return true;
  }
  return false;
}

}  // namespace

namespace {

// Boosts round by round, watching the holdout's last eval metric for early stopping.
Status RunRounds(BoosterHandle b, DMatrixHandle dtrain, DMatrixHandle dhold, const TrainOptions& o,
                 TrainResult* r) {
  int since_best = 0;
  bool has_best = false;
  for (int i = 0; i < o.rounds; ++i) {
    if (XGBoosterUpdateOneIter(b, i, dtrain) != 0) return XgbError("boosting");
    r->rounds_run = i + 1;
    double m = std::numeric_limits<double>::quiet_NaN();
    if (dhold == nullptr) {
      r->best_iteration = i;
    } else {
      const char* names[] = {"holdout"};
      const char* eval = nullptr;
      if (XGBoosterEvalOneIter(b, i, &dhold, names, 1, &eval) != 0)
        return XgbError("evaluating the holdout");
      if (!LastMetric(eval, &r->metric, &m))
        return Status::Internal(std::string("xgboost: unreadable evaluation '") + eval + "'");
      const bool better = !has_best || (Maximize(r->metric) ? m > r->best_metric : m < r->best_metric);
      if (better) {
        has_best = true;
        r->best_metric = m;
        r->best_iteration = i;
        since_best = 0;
      } else {
        ++since_best;
      }
    }
    if (o.on_round) o.on_round(i, m);
    if (dhold && o.early_stopping_rounds > 0 && since_best >= o.early_stopping_rounds) break;
  }
  return Status::Ok();
}

bool IsBinary(const TrainingSet& t) {
  for (float y : t.y) {
    if (y != 0 && y != 1) return false;
  }
  return true;
}

// Quality of the kept model on the holdout.
void Score(const TrainingSet& t, TrainResult* r) {
  const size_t n = r->holdout_rows.size();
  if (r->holdout_scores.size() != n || n == 0) return;
  std::vector<float> y(n);
  for (size_t i = 0; i < n; ++i) y[i] = t.y[r->holdout_rows[i]];
  const float* s = r->holdout_scores.data();
  r->rmse = Rmse(s, y.data(), n);
  r->binary = IsBinary(t);
  if (!r->binary) return;
  r->auc = RocAuc(s, y.data(), n);
  r->pr_auc = AveragePrecision(s, y.data(), n);
  bool probabilities = true;
  for (size_t i = 0; i < n; ++i) probabilities = probabilities && s[i] >= 0 && s[i] <= 1;
  r->logloss = probabilities ? LogLoss(s, y.data(), n) : std::numeric_limits<double>::quiet_NaN();
}

// Slices the booster to its best iteration, saves it as JSON and predicts the holdout with it.
Status Keep(BoosterHandle b, DMatrixHandle dhold, bool linear, TrainResult* r) {
  Booster sliced;
  BoosterHandle kept = b;
  if (!linear && r->best_iteration + 1 < r->rounds_run) {
    BoosterHandle h = nullptr;
    if (XGBoosterSlice(b, 0, r->best_iteration + 1, 1, &h) != 0)
      return XgbError("keeping the best iteration");
    sliced.reset(h);
    kept = h;
  }
  bst_ulong len = 0;
  const char* buf = nullptr;
  if (XGBoosterSaveModelToBuffer(kept, R"({"format": "json"})", &len, &buf) != 0)
    return XgbError("saving the model");
  r->model_json.assign(buf, len);
  if (dhold == nullptr) return Status::Ok();
  const char* config =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  if (XGBoosterPredictFromDMatrix(kept, dhold, config, &shape, &dim, &out) != 0)
    return XgbError("predicting the holdout");
  size_t size = 1;
  for (bst_ulong i = 0; i < dim; ++i) size *= shape[i];
  if (size == r->holdout_rows.size()) r->holdout_scores.assign(out, out + size);
  return Status::Ok();
}

}  // namespace

Result<TrainResult> Train(const TrainingSet& t, const TrainOptions& o) {
  if (t.rows() == 0) return Status::InvalidArgument("no labelled rows to train on");
  TrainResult r;
  SplitByTime(t, o.holdout, &r.train_rows, &r.holdout_rows);
  if (r.train_rows.empty()) return Status::InvalidArgument("the holdout leaves no rows to train on");
  auto dtrain = MakeMatrix(t, r.train_rows);
  if (!dtrain.ok()) return dtrain.status();
  DMatrix dhold;
  if (!r.holdout_rows.empty()) {
    auto m = MakeMatrix(t, r.holdout_rows);
    if (!m.ok()) return m.status();
    dhold = std::move(*m);
  }
  DMatrixHandle cache[] = {dtrain->get(), dhold.get()};
  BoosterHandle bh = nullptr;
  if (XGBoosterCreate(cache, dhold ? 2 : 1, &bh) != 0) return XgbError("creating the booster");
  Booster booster(bh);
  // Named inputs travel with the saved model, so scoring binds them to features by name.
  std::vector<const char*> names;
  for (const auto& n : t.inputs) names.push_back(n.c_str());
  if (XGBoosterSetStrFeatureInfo(bh, "feature_name", names.data(), names.size()) != 0)
    return XgbError("feature names");
  r.params = EffectiveParams(o);
  bool linear = false;
  for (const auto& [k, v] : r.params) {
    if (XGBoosterSetParam(bh, k.c_str(), v.c_str()) != 0) return XgbError(("parameter " + k).c_str());
    linear = linear || (k == "booster" && v == "gblinear");
  }
  if (Status s = RunRounds(bh, dtrain->get(), dhold.get(), o, &r); !s.ok()) return s;
  if (Status s = Keep(bh, dhold.get(), linear, &r); !s.ok()) return s;
  Score(t, &r);
  return r;
}

}  // namespace sluice::learn
