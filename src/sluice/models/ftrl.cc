#include "sluice/models/ftrl.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <new>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "sluice/models/json_text.h"

namespace sluice::models {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// Zeroed storage for `count` coordinates of `size` bytes. From 2 MiB up it is 2 MiB-aligned and
// marked for transparent huge pages: a hashed feature space (2^20 coordinates = 32 MiB) touched
// at random would otherwise miss the TLB on almost every coordinate (measured in
// bench/bench_ftrl.cc, docs/benchmarks.md).
void* AllocateState(size_t count, size_t size, size_t align) {
  size_t bytes = count * size;
  if (bytes >= kHugePage) {
    align = kHugePage;
    bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  } else {
    bytes = (bytes + align - 1) / align * align;
  }
  void* p = std::aligned_alloc(align, bytes);
  if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (align == kHugePage) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure is harmless
#endif
  return p;
}

bool CpuHasAvx() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx");
#else
  return false;
#endif
}

}  // namespace

void FtrlLearner::FreeState::operator()(Coord* p) const { std::free(p); }

FtrlLearner::FtrlLearner(size_t dim, const FtrlParams& p)
    : dim_(dim), params_(p), inv_alpha_(1.0 / p.alpha), avx_(CpuHasAvx()) {
  const size_t count = dim + (p.bias ? 1 : 0);
  Coord* c = static_cast<Coord*>(AllocateState(count, sizeof(Coord), alignof(Coord)));
  std::uninitialized_value_construct_n(c, count);
  state_.reset(c);
}

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

double FtrlLearner::Weight(size_t i) const { return WeightOf(state_[i].z, std::sqrt(state_[i].n)); }

void FtrlLearner::Update(Coord* c, double g, double sqrt_n, double w) const {
  const double n_new = c->n + g * g;
  const double sigma = (std::sqrt(n_new) - sqrt_n) * inv_alpha_;
  c->z += g - sigma * w;
  c->n = n_new;
}

#if defined(__x86_64__)
namespace {

// Four 16-byte coordinates {z, n} -> the vectors z and n of coordinates {a, b, c, d}.
__attribute__((target("avx"))) inline void LoadCoords(const double* a, const double* b,
                                                      const double* c, const double* d, __m256d* z,
                                                      __m256d* n) {
  const __m256d ac =
      _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_load_pd(a)), _mm_load_pd(c), 1);
  const __m256d bd =
      _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_load_pd(b)), _mm_load_pd(d), 1);
  *z = _mm256_unpacklo_pd(ac, bd);
  *n = _mm256_unpackhi_pd(ac, bd);
}

__attribute__((target("avx"))) inline void StoreCoords(__m256d z, __m256d n, double* a, double* b,
                                                       double* c, double* d) {
  const __m256d ac = _mm256_unpacklo_pd(z, n), bd = _mm256_unpackhi_pd(z, n);
  _mm_store_pd(a, _mm256_castpd256_pd128(ac));
  _mm_store_pd(c, _mm256_extractf128_pd(ac, 1));
  _mm_store_pd(b, _mm256_castpd256_pd128(bd));
  _mm_store_pd(d, _mm256_extractf128_pd(bd, 1));
}

}  // namespace

// Margin's w_i and products, operation for operation (no FMA: this target does not enable it,
// so every product is rounded as in the scalar code). The square roots and divisions, the
// expensive part, run as one 4-wide instruction each.
__attribute__((target("avx"))) size_t FtrlLearner::ProductsAvx(const uint32_t* idx,
                                                               const double* val, size_t n,
                                                               Kept* kept, double* prod) const {
  const __m256d inv_alpha = _mm256_set1_pd(inv_alpha_), l1 = _mm256_set1_pd(params_.l1);
  const __m256d l2 = _mm256_set1_pd(params_.l2), beta = _mm256_set1_pd(params_.beta);
  const __m256d sign = _mm256_set1_pd(-0.0);
  const size_t end = std::min(n, kKept);
  size_t k = 0;
  for (; k + 4 <= end; k += 4) {
    __m256d z, nn;
    LoadCoords(&state_[idx[k]].z, &state_[idx[k + 1]].z, &state_[idx[k + 2]].z,
               &state_[idx[k + 3]].z, &z, &nn);
    const __m256d s = _mm256_sqrt_pd(nn);
    // WeightOf: -(z - copysign(l1, z)) / ((beta + sqrt_n) / alpha + l2), 0 where |z| <= l1.
    const __m256d signed_l1 = _mm256_or_pd(_mm256_and_pd(z, sign), l1);
    const __m256d num = _mm256_xor_pd(_mm256_sub_pd(z, signed_l1), sign);
    const __m256d den = _mm256_add_pd(_mm256_mul_pd(_mm256_add_pd(beta, s), inv_alpha), l2);
    const __m256d small = _mm256_cmp_pd(_mm256_andnot_pd(sign, z), l1, _CMP_LE_OQ);
    const __m256d w = _mm256_andnot_pd(small, _mm256_div_pd(num, den));
    _mm256_storeu_pd(kept->w + k, w);
    _mm256_storeu_pd(kept->sqrt_n + k, s);
    _mm256_storeu_pd(prod + k, _mm256_mul_pd(w, _mm256_loadu_pd(val + k)));
  }
  return k;
}

// Update() on four coordinates per iteration, the same operations in the same order.
__attribute__((target("avx"))) size_t FtrlLearner::UpdateAvx(const uint32_t* idx, const double* val,
                                                             size_t n, double d, const Kept& kept) {
  const __m256d vd = _mm256_set1_pd(d), inv_alpha = _mm256_set1_pd(inv_alpha_);
  const size_t end = std::min(n, kKept);
  size_t k = 0;
  for (; k + 4 <= end; k += 4) {
    double* c[4];
    for (int j = 0; j < 4; ++j) c[j] = &state_[idx[k + j]].z;
    __m256d z, nn;
    LoadCoords(c[0], c[1], c[2], c[3], &z, &nn);
    const __m256d g = _mm256_mul_pd(vd, _mm256_loadu_pd(val + k));
    const __m256d n_new = _mm256_add_pd(nn, _mm256_mul_pd(g, g));
    const __m256d sigma = _mm256_mul_pd(
        _mm256_sub_pd(_mm256_sqrt_pd(n_new), _mm256_loadu_pd(kept.sqrt_n + k)), inv_alpha);
    z = _mm256_add_pd(z, _mm256_sub_pd(g, _mm256_mul_pd(sigma, _mm256_loadu_pd(kept.w + k))));
    StoreCoords(z, n_new, c[0], c[1], c[2], c[3]);
  }
  return k;
}
#else
size_t FtrlLearner::ProductsAvx(const uint32_t*, const double*, size_t, Kept*, double*) const {
  return 0;
}
size_t FtrlLearner::UpdateAvx(const uint32_t*, const double*, size_t, double, const Kept&) {
  return 0;
}
#endif

// Summed in feature order, then the bias (whose x is 1), as the paper's loop does, so the
// vector path rounds the sum exactly as the scalar one.
double FtrlLearner::Margin(std::span<const uint32_t> idx, std::span<const double> val,
                           Kept* kept) const {
  assert(idx.size() == val.size());
  const size_t n = idx.size();
  double m = 0;
  size_t k = 0;
  if (avx_) {
    double prod[kKept];
    const size_t done = ProductsAvx(idx.data(), val.data(), n, kept, prod);
    for (; k < done; ++k) m += prod[k];
  }
  for (; k < n; ++k) {
    assert(idx[k] < dim_);
    const Coord& c = state_[idx[k]];
    const double s = std::sqrt(c.n), w = WeightOf(c.z, s);
    if (k < kKept) kept->w[k] = w, kept->sqrt_n[k] = s;
    m += w * val[k];
  }
  if (params_.bias) {
    kept->bias_sqrt_n = std::sqrt(state_[dim_].n);
    kept->bias_w = WeightOf(state_[dim_].z, kept->bias_sqrt_n);
    m += kept->bias_w;
  }
  return m;
}

double FtrlLearner::PredictSparse(std::span<const uint32_t> idx,
                                  std::span<const double> val) const {
  Kept kept;
  return Sigmoid(Margin(idx, val, &kept));
}

double FtrlLearner::PredictDense(std::span<const double> x) const {
  assert(x.size() == dim_);
  double m = 0;
  for (size_t i = 0; i < dim_; ++i) {
    if (x[i] != 0 && x[i] == x[i]) m += Weight(i) * x[i];
  }
  if (params_.bias) m += Weight(dim_);
  return Sigmoid(m);
}

// Every w_i is computed before any coordinate is updated (indices are distinct), as Algorithm 1
// computes all of w before p. A feature past the kKept kept ones recomputes its w and sqrt(n)
// from the state, which no update of this example has touched yet.
double FtrlLearner::LearnSparse(std::span<const uint32_t> idx, std::span<const double> val,
                                double y) {
  Kept kept;
  const double p = Sigmoid(Margin(idx, val, &kept));
  const double d = p - y;
  const size_t n = idx.size();
  size_t k = avx_ ? UpdateAvx(idx.data(), val.data(), n, d, kept) : 0;
  for (; k < n; ++k) {
    Coord* c = &state_[idx[k]];
    if (k < kKept) {
      Update(c, d * val[k], kept.sqrt_n[k], kept.w[k]);
    } else {
      const double s = std::sqrt(c->n);
      Update(c, d * val[k], s, WeightOf(c->z, s));
    }
  }
  if (params_.bias) Update(&state_[dim_], d, kept.bias_sqrt_n, kept.bias_w);
  return p;
}

// Overlapping example e + 1's dot product with example e's update (when they share no feature)
// was measured and dropped: checking that they share none cost more than the overlap saved
// (docs/benchmarks.md, "Models: FTRL online learning").
void FtrlLearner::LearnBatch(std::span<const uint32_t> idx, std::span<const double> val,
                             std::span<const size_t> offsets, std::span<const double> y,
                             std::span<double> p) {
  const size_t n = y.size();
  assert(offsets.size() == n + 1 && p.size() == n && idx.size() == val.size());
  auto features = [&](size_t e) { return idx.subspan(offsets[e], offsets[e + 1] - offsets[e]); };
  for (size_t e = 0; e < std::min(n, kBatchAhead); ++e) Prefetch(features(e));
  for (size_t e = 0; e < n; ++e) {
    if (e + kBatchAhead < n) Prefetch(features(e + kBatchAhead));
    p[e] = LearnSparse(features(e), val.subspan(offsets[e], offsets[e + 1] - offsets[e]), y[e]);
  }
}

double FtrlLearner::LearnDense(std::span<const double> x, double y) {
  const double p = PredictDense(x);
  const double d = p - y;
  auto step = [&](size_t i, double g) {
    Coord* c = &state_[i];
    const double s = std::sqrt(c->n);
    Update(c, g, s, WeightOf(c->z, s));
  };
  for (size_t i = 0; i < dim_; ++i) {
    if (x[i] != 0 && x[i] == x[i]) step(i, d * x[i]);
  }
  if (params_.bias) step(dim_, d);
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
