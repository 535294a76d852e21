#pragma once
// FTRL-Proximal online logistic regression, exactly Algorithm 1 of McMahan et al., "Ad Click
// Prediction: a View from the Trenches" (KDD 2013). Per coordinate i it keeps z_i and n_i:
//   w_i = 0                                                  if |z_i| <= l1
//       = -(z_i - sgn(z_i) l1) / ((beta + sqrt(n_i)) / alpha + l2)   otherwise
//   p = sigmoid(x . w);  g_i = (p - y) x_i;  sigma_i = (sqrt(n_i + g_i^2) - sqrt(n_i)) / alpha
//   z_i += g_i - sigma_i w_i;  n_i += g_i^2
// Only coordinates with x_i != 0 are touched (for the others g_i = 0 and nothing changes).
// The optional bias is one more coordinate whose x is always 1, updated like any other.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/models/linear_model.h"

namespace sluice::models {

struct FtrlParams {
  double alpha = 0.1;  // learning-rate scale
  double beta = 1.0;   // learning-rate smoothing
  double l1 = 1.0;     // sparsity
  double l2 = 1.0;
  bool bias = true;  // learn an intercept (coordinate dim(), x = 1)
};

// An online learner over `dim` features. Owns its state (32 bytes per coordinate, on huge pages
// where the kernel allows, so random coordinates do not each cost a TLB miss); Learn* and
// Predict* allocate nothing. Movable, not copyable.
// Not thread-safe: Learn* mutate; the const Predict* may run concurrently with each other but
// not with Learn*.
class FtrlLearner {
 public:
  // InvalidArgument unless alpha > 0 and beta, l1, l2 >= 0 (all finite).
  static core::Result<FtrlLearner> Make(size_t dim, const FtrlParams& params);

  // Sparse example: indices (each < dim(), distinct) and their values. Returns p = P(y = 1).
  double PredictSparse(std::span<const uint32_t> idx, std::span<const double> val) const;
  // Dense example: dim() values; zeros and NaN (missing) are skipped.
  double PredictDense(std::span<const double> x) const;

  // One step of Algorithm 1 on a labelled example (y is 0 or 1); returns the p it predicted
  // before updating.
  double LearnSparse(std::span<const uint32_t> idx, std::span<const double> val, double y);
  double LearnDense(std::span<const double> x, double y);
  // LearnSparse on every example of a batch, in order (so the same predictions and weights, to
  // the bit). Example e has the features idx[offsets[e], offsets[e + 1]) with their values in
  // val and label y[e]; its prediction goes to p[e]. offsets has y.size() + 1 entries. The state
  // of the example kBatchAhead positions later is prefetched while one learns.
  void LearnBatch(std::span<const uint32_t> idx, std::span<const double> val,
                  std::span<const size_t> offsets, std::span<const double> y, std::span<double> p);
  static constexpr size_t kBatchAhead = 3;

  size_t dim() const { return dim_; }
  const FtrlParams& params() const { return params_; }
  // Hints the cache to load the state of these coordinates (e.g. the next example's) so that a
  // stream of examples overlaps its memory latency with the current update.
  void Prefetch(std::span<const uint32_t> idx) const {
    for (uint32_t i : idx) __builtin_prefetch(&state_[i], 1);
  }
  // The current weight of coordinate i (i == dim() is the bias), as Algorithm 1 computes it from
  // z_i and n_i.
  double Weight(size_t i) const { return state_[i].w; }
  double Bias() const { return params_.bias ? Weight(dim_) : 0.0; }

  // The current weights as a logistic sluice-linear model; `inputs` names the dim() features
  // (empty: x0, x1, ...). The FTRL parameters are recorded in its metadata.
  core::Result<LinearModel> ToModel(std::vector<std::string> inputs = {}) const;

 private:
  // z_i and n_i are Algorithm 1's state. w_i and sqrt(n_i) are functions of them that change only
  // when the coordinate is updated, so they are kept beside them: a prediction is then a plain
  // gather of w (the dot-product limit), and an update costs one sqrt and one division.
  // 32 bytes, aligned, so a coordinate is always one cache-line access, and one AVX register.
  struct alignas(32) Coord {
    double z = 0, n = 0, sqrt_n = 0, w = 0;
  };
  struct FreeState {
    void operator()(Coord* p) const;
  };
  FtrlLearner(size_t dim, const FtrlParams& p);
  double WeightOf(double z, double sqrt_n) const;
  void Update(Coord* c, double g) const;
  // Updates the coordinates idx[0..k) with g = d * val; returns k, a multiple of 4 (4 at a time
  // in AVX registers: the same IEEE operations in the same order as Update, so the same bits).
  size_t UpdateAvx(const uint32_t* idx, const double* val, size_t n, double d);

  size_t dim_;
  FtrlParams params_;
  double inv_alpha_;
  bool avx_;                                   // the CPU has AVX (checked once, in Make)
  std::unique_ptr<Coord[], FreeState> state_;  // dim_ coordinates, then the bias (params_.bias)
};

}  // namespace sluice::models
