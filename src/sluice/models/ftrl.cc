#include "sluice/models/ftrl.h"

#include <cassert>
#include <cmath>

#include "sluice/models/json_text.h"

namespace sluice::models {

FtrlLearner::FtrlLearner(size_t dim, const FtrlParams& p)
    : dim_(dim), params_(p), state_(dim + (p.bias ? 1 : 0)) {}

core::Result<FtrlLearner> FtrlLearner::Make(size_t dim, const FtrlParams& p) {
  auto finite_nonneg = [](double v) { return std::isfinite(v) && v >= 0; };
  if (!(std::isfinite(p.alpha) && p.alpha > 0))
    return core::Status::InvalidArgument("FTRL alpha must be a positive number");
  if (!finite_nonneg(p.beta) || !finite_nonneg(p.l1) || !finite_nonneg(p.l2))
    return core::Status::InvalidArgument("FTRL beta, l1 and l2 must be numbers >= 0");
  if (dim >= UINT32_MAX) return core::Status::InvalidArgument("FTRL dimension too large");
  return FtrlLearner(dim, p);
}

double FtrlLearner::WeightOf(const Coord& c, double sqrt_n) const {
  const double z = c.z;
  if (std::fabs(z) <= params_.l1) return 0.0;
  const double shrunk = z - std::copysign(params_.l1, z);
  // Divided by alpha, as the paper writes it, so results match its formula to the last bit.
  return -shrunk / ((params_.beta + sqrt_n) / params_.alpha + params_.l2);
}

double FtrlLearner::WeightOf(const Coord& c) const { return WeightOf(c, std::sqrt(c.n)); }

void FtrlLearner::Update(Coord* c, double g, const Touched& t) {
  const double n_new = c->n + g * g;
  const double sigma = (std::sqrt(n_new) - t.sqrt_n) / params_.alpha;
  c->z += g - sigma * t.w;
  c->n = n_new;
}

double FtrlLearner::PredictSparse(std::span<const uint32_t> idx,
                                  std::span<const double> val) const {
  assert(idx.size() == val.size());
  double m = 0;
  for (size_t k = 0; k < idx.size(); ++k) {
    assert(idx[k] < dim_);
    m += WeightOf(state_[idx[k]]) * val[k];
  }
  if (params_.bias) m += WeightOf(state_[dim_]);
  return Sigmoid(m);
}

double FtrlLearner::PredictDense(std::span<const double> x) const {
  assert(x.size() == dim_);
  double m = 0;
  for (size_t i = 0; i < dim_; ++i) {
    if (x[i] != 0 && x[i] == x[i]) m += WeightOf(state_[i]) * x[i];
  }
  if (params_.bias) m += WeightOf(state_[dim_]);
  return Sigmoid(m);
}

double FtrlLearner::LearnSparse(std::span<const uint32_t> idx, std::span<const double> val,
                                double y) {
  assert(idx.size() == val.size());
  const size_t nnz = idx.size();
  if (scratch_.size() < nnz + 1) scratch_.resize(nnz + 1);  // grows to the widest example once
  Touched* t = scratch_.data();
  double m = 0;
  for (size_t k = 0; k < nnz; ++k) {
    assert(idx[k] < dim_);
    const Coord& c = state_[idx[k]];
    const double sqrt_n = std::sqrt(c.n);
    t[k] = {WeightOf(c, sqrt_n), sqrt_n};
    m += t[k].w * val[k];
  }
  if (params_.bias) {
    const double sqrt_n = std::sqrt(state_[dim_].n);
    t[nnz] = {WeightOf(state_[dim_], sqrt_n), sqrt_n};
    m += t[nnz].w;
  }
  const double p = Sigmoid(m);
  const double d = p - y;
  for (size_t k = 0; k < nnz; ++k) Update(&state_[idx[k]], d * val[k], t[k]);
  if (params_.bias) Update(&state_[dim_], d, t[nnz]);
  return p;
}

double FtrlLearner::LearnDense(std::span<const double> x, double y) {
  assert(x.size() == dim_);
  if (scratch_.size() < dim_ + 1) scratch_.resize(dim_ + 1);
  Touched* t = scratch_.data();
  double m = 0;
  for (size_t i = 0; i < dim_; ++i) {
    if (x[i] == 0 || x[i] != x[i]) continue;
    const double sqrt_n = std::sqrt(state_[i].n);
    t[i] = {WeightOf(state_[i], sqrt_n), sqrt_n};
    m += t[i].w * x[i];
  }
  if (params_.bias) {
    const double sqrt_n = std::sqrt(state_[dim_].n);
    t[dim_] = {WeightOf(state_[dim_], sqrt_n), sqrt_n};
    m += t[dim_].w;
  }
  const double p = Sigmoid(m);
  const double d = p - y;
  for (size_t i = 0; i < dim_; ++i) {
    if (x[i] != 0 && x[i] == x[i]) Update(&state_[i], d * x[i], t[i]);
  }
  if (params_.bias) Update(&state_[dim_], d, t[dim_]);
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
