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

// An online learner over `dim` features. Owns its state (16 bytes per coordinate, on huge pages
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
  double Weight(size_t i) const;
  double Bias() const { return params_.bias ? Weight(dim_) : 0.0; }

  // The current weights as a logistic sluice-linear model; `inputs` names the dim() features
  // (empty: x0, x1, ...). The FTRL parameters are recorded in its metadata.
  core::Result<LinearModel> ToModel(std::vector<std::string> inputs = {}) const;

 private:
  // Algorithm 1's state and nothing else: w_i and sqrt(n_i) are recomputed from z_i and n_i when
  // an example touches i (the same IEEE operations whenever they are computed, so the same bits
  // as caching them). Half the bytes of {z, n, sqrt n, w}: the state of 2^18 coordinates stays
  // in cache, and the extra square root and division, 4 lanes at a time, cost less than the
  // cache misses they save (docs/benchmarks.md, "Models: FTRL online learning").
  struct alignas(16) Coord {
    double z = 0, n = 0;
  };
  struct FreeState {
    void operator()(Coord* p) const;
  };
  // w_i and sqrt(n_i) of an example's first kKept features, from the prediction to the update.
  static constexpr size_t kKept = 64;
  struct Kept {
    double w[kKept], sqrt_n[kKept];
    double bias_w = 0, bias_sqrt_n = 0;
  };
  FtrlLearner(size_t dim, const FtrlParams& p);
  double WeightOf(double z, double sqrt_n) const;
  // The margin x . w (+ the bias) summed in feature order; fills `kept` for the first kKept.
  double Margin(std::span<const uint32_t> idx, std::span<const double> val, Kept* kept) const;
  // z and n of one coordinate after a step with gradient g, from its w and sqrt(n) before it.
  void Update(Coord* c, double g, double sqrt_n, double w) const;
  // The AVX versions of Margin's products and of the update, 4 features at a time with the same
  // IEEE operations in the same order (no FMA), so the same bits; each returns how many features
  // it did (a multiple of 4, at most min(n, kKept)).
  size_t ProductsAvx(const uint32_t* idx, const double* val, size_t n, Kept* kept,
                     double* prod) const;
  size_t UpdateAvx(const uint32_t* idx, const double* val, size_t n, double d, const Kept& kept);

  size_t dim_;
  FtrlParams params_;
  double inv_alpha_;
  bool avx_;                                   // the CPU has AVX (checked once, in Make)
  std::unique_ptr<Coord[], FreeState> state_;  // dim_ coordinates, then the bias (params_.bias)
};

}  // namespace sluice::models
