#pragma once
// Trains a gradient-boosted model through libxgboost's C API, the way users train with
// xgboost.train: the latest part of the data by event time is the holdout (never shuffled: the
// future must not leak into training), early stopping watches the holdout's eval metric, and the
// model kept is the best iteration (sliced, so predicting with all its trees reproduces it).
// Thread-compatible: one Train call owns its boosters; libxgboost itself uses `nthread` threads.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/learn/training_set.h"

namespace sluice::learn {

struct TrainOptions {
  // xgboost parameters as key=value, applied over the defaults (objective binary:logistic,
  // eta 0.1, max_depth 6, tree_method hist, seed 0).
  std::vector<std::pair<std::string, std::string>> params;
  int rounds = 500;                // most boosting rounds
  int early_stopping_rounds = 20;  // stop when the holdout metric has not improved for this many; 0 = off
  double holdout = 0.2;            // share of rows, latest by event time
  // Called after each round with the holdout metric (NaN without a holdout).
  std::function<void(int round, double metric)> on_round;
};

struct TrainResult {
  std::string model_json;  // the kept model, XGBoost JSON (with feature names)
  std::vector<std::pair<std::string, std::string>> params;  // as used, defaults included
  int rounds_run = 0;
  int best_iteration = 0;  // 0-based; the model holds rounds 0..best_iteration
  std::string metric;      // the early-stopping metric, e.g. "logloss"
  double best_metric = 0;
  std::vector<size_t> train_rows;    // row indexes into the training set, in time order
  std::vector<size_t> holdout_rows;  // the same for the holdout: the latest rows by event time
  std::vector<float> holdout_scores;  // the kept model's predictions, one per holdout row
  bool binary = false;                // labels are all 0 or 1, so the metrics below are defined
  double auc = 0, pr_auc = 0, logloss = 0, rmse = 0;
};

core::Result<TrainResult> Train(const TrainingSet& t, const TrainOptions& o);

}  // namespace sluice::learn
