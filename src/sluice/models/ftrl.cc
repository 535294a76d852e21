#include "sluice/models/ftrl.h"

#include <cassert>
#include <cmath>

#include "sluice/models/json_text.h"

namespace sluice::models {

FtrlLearner::FtrlLearner(size_t dim, const FtrlParams& p)
    : dim_(dim), params_(p), inv_alpha_(1.0 / p.alpha), state_(dim + (p.bias ? 1 : 0)) {}

core::Result<FtrlLearner> FtrlLearner::Make(size_t dim, const FtrlParams& p) {
  auto finite_nonneg = [](double v) { return std::isfinite(v) && v >= 0; };
  if (!(std::isfinite(p.alpha) && p.alpha > 0))
    return core::Status::InvalidArgument("FTRL alpha must be a positive number");
  if (!finite_nonneg(p.beta) || !finite_nonneg(p.l1) || !finite_nonneg(p.l2))
    return core::Status::InvalidArgument("FTRL beta, l1 and l2 must be numbers >= 0");
  if (dim >= UINT32_MAX) return core::Status::InvalidArgument("FTRL dimension too large");
  return FtrlLearner(dim, p);
}

// Multiplying by 1/alpha instead of dividing differs from the paper's formula by at most an ulp
// per operation (test/models/check_ftrl.py bounds the drift) and saves two divisions a feature.
// Computed whether or not |z| <= l1 and then selected: the comparison is close to a coin flip
// for coordinates near the L1 threshold, and a mispredicted branch costs more than the division.
// (When the denominator is 0, z is 0 too and the select discards the inf/NaN.)
double FtrlLearner::WeightOf(double z, double sqrt_n) const {
  const double w =
      -(z - std::copysign(params_.l1, z)) / ((params_.beta + sqrt_n) * inv_alpha_ + params_.l2);
  return std::fabs(z) <= params_.l1 ? 0.0 : w;
}

void FtrlLearner::Update(Coord* c, double g) const {
  const double n_new = c->n + g * g;
  const double sqrt_new = std::sqrt(n_new);
  const double sigma = (sqrt_new - c->sqrt_n) * inv_alpha_;
  c->z += g - sigma * c->w;
  c->n = n_new;
  c->sqrt_n = sqrt_new;
  c->w = WeightOf(c->z, sqrt_new);
}

double FtrlLearner::PredictSparse(std::span<const uint32_t> idx,
                                  std::span<const double> val) const {
  assert(idx.size() == val.size());
  double m = 0;
  for (size_t k = 0; k < idx.size(); ++k) {
    assert(idx[k] < dim_);
    m += state_[idx[k]].w * val[k];
  }
  if (params_.bias) m += state_[dim_].w;
  return Sigmoid(m);
}

double FtrlLearner::PredictDense(std::span<const double> x) const {
  assert(x.size() == dim_);
  double m = 0;
  for (size_t i = 0; i < dim_; ++i) {
    if (x[i] != 0 && x[i] == x[i]) m += state_[i].w * x[i];
  }
  if (params_.bias) m += state_[dim_].w;
  return Sigmoid(m);
}

// Every w_i is read before any coordinate is updated (indices are distinct), as Algorithm 1
// computes all of w before p.
double FtrlLearner::LearnSparse(std::span<const uint32_t> idx, std::span<const double> val,
                                double y) {
  const double p = PredictSparse(idx, val);
  const double d = p - y;
  for (size_t k = 0; k < idx.size(); ++k) Update(&state_[idx[k]], d * val[k]);
  if (params_.bias) Update(&state_[dim_], d);
  return p;
}

double FtrlLearner::LearnDense(std::span<const double> x, double y) {
  const double p = PredictDense(x);
  const double d = p - y;
  for (size_t i = 0; i < dim_; ++i) {
    if (x[i] != 0 && x[i] == x[i]) Update(&state_[i], d * x[i]);
  }
  if (params_.bias) Update(&state_[dim_], d);
  return p;
}

core::Result<LinearModel> FtrlLearner::ToModel(std::vector<std::string> inputs) const {
  if (inputs.empty()) {
    for (size_t i = 0; i < dim_; ++i) inputs.push_back("x" + std::to_string(i));
  }
  if (inputs.size() != dim_) {
    return core::Status::InvalidArgument("FTRL model has " + std::to_string(dim_) +
                                         " features but " + std::to_string(inputs.size()) +
                                         " names were given");
  }
  std::vector<double> w(dim_);
  for (size_t i = 0; i < dim_; ++i) w[i] = Weight(i);
  std::string meta = "{\"trainer\":\"ftrl-proximal\",\"alpha\":";
  AppendJsonNumber(params_.alpha, &meta);
  meta += ",\"beta\":";
  AppendJsonNumber(params_.beta, &meta);
  meta += ",\"l1\":";
  AppendJsonNumber(params_.l1, &meta);
  meta += ",\"l2\":";
  AppendJsonNumber(params_.l2, &meta);
  meta += "}";
  return LinearModel::Make(LinearKind::kLogistic, std::move(inputs), std::move(w), Bias(),
                           std::move(meta));
}

}  // namespace sluice::models
