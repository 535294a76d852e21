#include "sluice/gen/random.h"

#include <algorithm>

namespace sluice::gen {

AliasTable::AliasTable(const std::vector<double>& weights)
    : prob_(weights.size(), 1.0), alias_(weights.size(), 0) {
  const size_t n = weights.size();
  if (n == 0) return;
  double sum = 0;
  for (double w : weights) sum += std::max(w, 0.0);
  if (sum <= 0) return;  // all zero: uniform, which prob_ = 1 already gives
  std::vector<double> scaled(n);
  std::vector<int32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = std::max(weights[i], 0.0) * static_cast<double>(n) / sum;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<int32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const int32_t s = small.back(), l = large.back();
    small.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are 1 up to rounding error.
  for (int32_t i : small) prob_[i] = 1.0;
  for (int32_t i : large) prob_[i] = 1.0;
}

int32_t AliasTable::Sample(Rng& rng) const {
  const int32_t i = static_cast<int32_t>(rng.Below(static_cast<int64_t>(prob_.size())));
  return rng.Uniform() < prob_[i] ? i : alias_[i];
}

void WeightedIds::Add(int32_t id, double weight) {
  ids_.push_back(id);
  cumulative_.push_back((cumulative_.empty() ? 0.0 : cumulative_.back()) + weight);
}

int32_t WeightedIds::Sample(Rng& rng) const {
  const double x = rng.Uniform() * cumulative_.back();
  const size_t i =
      std::upper_bound(cumulative_.begin(), cumulative_.end(), x) - cumulative_.begin();
  return ids_[std::min(i, ids_.size() - 1)];
}

}  // namespace sluice::gen
