#include "sluice/models/objective.h"

#include <algorithm>
#include <cmath>

namespace sluice::models {

namespace {

struct Known {
  const char* name;
  Transform transform;
  bool multi_class, logit_base, log_base;
};

// binary:logitraw keeps base_score as given: it inherits no ProbToMargin in xgboost 1.7
// (checked against python3-xgboost: margin = base_score + leaves).
constexpr Known kKnown[] = {
    {"binary:logistic", Transform::kSigmoid, false, true, false},
    {"reg:logistic", Transform::kSigmoid, false, true, false},
    {"binary:logitraw", Transform::kIdentity, false, false, false},
    {"reg:squarederror", Transform::kIdentity, false, false, false},
    {"reg:absoluteerror", Transform::kIdentity, false, false, false},
    {"count:poisson", Transform::kExp, false, false, true},
    {"multi:softprob", Transform::kSoftprob, true, false, false},
    {"multi:softmax", Transform::kSoftmax, true, false, false},
    {"rank:pairwise", Transform::kIdentity, false, false, false},
};

// xgboost's common::Sigmoid (1.7): clamps the exponent so large negative margins do not overflow.
float Sigmoid(float x) {
  const float e = std::min(-x, 88.7f);
  return 1.0f / (std::exp(e) + 1.0f + 1e-16f);
}

}  // namespace

core::Result<Objective> FindObjective(std::string_view name) {
  for (const Known& k : kKnown) {
    if (name == k.name) {
      return Objective{k.name, k.transform, k.multi_class, k.logit_base, k.log_base};
    }
  }
  std::string list;
  for (const Known& k : kKnown) list += std::string(list.empty() ? "" : ", ") + k.name;
  return core::Status::InvalidArgument("unsupported objective '" + std::string(name) +
                                       "' (supported: " + list + ")");
}

float BaseMargin(const Objective& obj, float base_score) {
  if (obj.logit_base) return -std::log(1.0f / base_score - 1.0f);
  if (obj.log_base) return std::log(base_score);
  return base_score;
}

void TransformRow(const Objective& obj, const float* margins, int groups, double* out) {
  switch (obj.transform) {
    case Transform::kIdentity:
      out[0] = margins[0];
      return;
    case Transform::kSigmoid:
      out[0] = Sigmoid(margins[0]);
      return;
    case Transform::kExp:
      out[0] = std::exp(margins[0]);
      return;
    case Transform::kSoftmax:
      out[0] = static_cast<double>(std::max_element(margins, margins + groups) - margins);
      return;
    case Transform::kSoftprob: {
      // As xgboost's common::Softmax: float exponentials, summed in double, divided in float.
      const float top = *std::max_element(margins, margins + groups);
      double sum = 0;
      for (int g = 0; g < groups; ++g) sum += std::exp(margins[g] - top);
      for (int g = 0; g < groups; ++g) {
        out[g] = std::exp(margins[g] - top) / static_cast<float>(sum);
      }
      return;
    }
  }
}

}  // namespace sluice::models
