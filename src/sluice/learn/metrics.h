#pragma once
// Quality metrics of scores against labels, defined as scikit-learn defines them so its
// functions are an independent oracle in tests:
//   RocAuc           = roc_auc_score (ties between scores count one half)
//   AveragePrecision = average_precision_score, the PR-AUC: sum over thresholds of
//                      (R_n − R_{n−1}) · P_n, tied scores forming one threshold
//   LogLoss          = log_loss (probabilities clipped to [1e-15, 1 − 1e-15])
// Labels are 0 or 1. A metric that is undefined (one class only, no rows) is NaN.
// Thread-safe: pure functions.
#include <cstddef>

namespace sluice::learn {

double RocAuc(const float* scores, const float* labels, size_t n);
double AveragePrecision(const float* scores, const float* labels, size_t n);
double LogLoss(const float* probabilities, const float* labels, size_t n);
double Rmse(const float* predictions, const float* labels, size_t n);

}  // namespace sluice::learn
