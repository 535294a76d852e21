// gblinear: margin = bias + base + sum of x_i * w_i over present features, in float and in feature
// order, as xgboost 1.7's GBLinear::PredValue sums it (missing values are skipped, not zero).
#include <memory>

#include "sluice/models/scorer.h"

namespace sluice::models {

namespace {

class Linear final : public Scorer {
 public:
  explicit Linear(const ModelSpec& spec)
      : features_(static_cast<size_t>(spec.num_features)),
        groups_(static_cast<size_t>(spec.num_groups)),
        weights_(spec.linear_weights) {}

  void AddMargins(const float* rows, size_t n, size_t stride, float* acc) const override {
    const float* bias = weights_.data() + features_ * groups_;
    for (size_t r = 0; r < n; ++r) {
      const float* row = rows + r * stride;
      for (size_t g = 0; g < groups_; ++g) {
        float sum = bias[g] + acc[r * groups_ + g];
        for (size_t f = 0; f < features_; ++f) {
          if (row[f] == row[f]) sum += row[f] * weights_[f * groups_ + g];
        }
        acc[r * groups_ + g] = sum;
      }
    }
  }

 private:
  size_t features_, groups_;
  std::vector<float> weights_;  // feature-major: weights_[f * groups_ + g], then the biases
};

}  // namespace

std::unique_ptr<const Scorer> BuildLinear(const ModelSpec& spec) {
  return std::make_unique<Linear>(spec);
}

}  // namespace sluice::models
