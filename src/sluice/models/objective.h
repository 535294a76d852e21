#pragma once
// XGBoost objectives as prediction sees them: how base_score becomes a margin and how margins
// become outputs. Both follow xgboost 1.7 in float arithmetic, the precision xgboost predicts in.
#include <string>
#include <string_view>

#include "sluice/core/status.h"

namespace sluice::models {

enum class Transform {
  kIdentity,  // regression, ranking and raw-margin objectives
  kSigmoid,   // binary:logistic, reg:logistic
  kExp,       // count:poisson
  kSoftprob,  // multi:softprob: K probabilities
  kSoftmax,   // multi:softmax: the most likely class index
};

struct Objective {
  std::string name;
  Transform transform = Transform::kIdentity;
  bool multi_class = false;  // needs num_class >= 2
  bool logit_base = false;   // base margin = logit(base_score)
  bool log_base = false;     // base margin = log(base_score)
};

// The objectives Sluice scores; others are refused with an error naming them.
core::Result<Objective> FindObjective(std::string_view name);

// The margin every row starts from (xgboost's ObjFunction::ProbToMargin).
float BaseMargin(const Objective& obj, float base_score);

// Number of values Transform writes per row for `groups` margins.
inline int NumOutputs(const Objective& obj, int groups) {
  return obj.transform == Transform::kSoftprob ? groups : 1;
}

// margins: `groups` floats of one row; out: NumOutputs() values.
void TransformRow(const Objective& obj, const float* margins, int groups, double* out);

}  // namespace sluice::models
