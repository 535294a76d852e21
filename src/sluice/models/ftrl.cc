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

void FtrlLearner::Update(Coord* c, double g) const {
  const double n_new = c->n + g * g;
  const double sqrt_new = std::sqrt(n_new);
  const double sigma = (sqrt_new - c->sqrt_n) * inv_alpha_;
  c->z += g - sigma * c->w;
  c->n = n_new;
  c->sqrt_n = sqrt_new;
  c->w = WeightOf(c->z, sqrt_new);
}

#if defined(__x86_64__)
namespace {

// Four 32-byte rows {a, b, c, d} <-> four columns, in place (an involution).
__attribute__((target("avx"))) inline void Transpose(__m256d* r) {
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

}  // namespace

// Update() on four coordinates per iteration, operation for operation (no FMA: this target does
// not enable it, so every product is rounded as in the scalar code). Their square roots and
// divisions, the expensive part, then run as one 4-wide instruction each.
__attribute__((target("avx"))) size_t FtrlLearner::UpdateAvx(const uint32_t* idx, const double* val,
                                                             size_t n, double d) {
  const __m256d vd = _mm256_set1_pd(d), inv_alpha = _mm256_set1_pd(inv_alpha_);
  const __m256d l1 = _mm256_set1_pd(params_.l1), l2 = _mm256_set1_pd(params_.l2);
  const __m256d beta = _mm256_set1_pd(params_.beta), sign = _mm256_set1_pd(-0.0);
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    double* c[4];
    __m256d r[4];  // rows {z, n, sqrt_n, w} -> columns z, n, sqrt_n, w
    for (int j = 0; j < 4; ++j) {
      c[j] = &state_[idx[k + j]].z;
      r[j] = _mm256_load_pd(c[j]);
    }
    Transpose(r);
    const __m256d g = _mm256_mul_pd(vd, _mm256_loadu_pd(val + k));
    const __m256d n_new = _mm256_add_pd(r[1], _mm256_mul_pd(g, g));
    const __m256d sqrt_new = _mm256_sqrt_pd(n_new);
    const __m256d sigma = _mm256_mul_pd(_mm256_sub_pd(sqrt_new, r[2]), inv_alpha);
    const __m256d z = _mm256_add_pd(r[0], _mm256_sub_pd(g, _mm256_mul_pd(sigma, r[3])));
    // WeightOf: -(z - copysign(l1, z)) / ((beta + sqrt_n) / alpha + l2), 0 where |z| <= l1.
    const __m256d signed_l1 = _mm256_or_pd(_mm256_and_pd(z, sign), l1);
    const __m256d num = _mm256_xor_pd(_mm256_sub_pd(z, signed_l1), sign);
    const __m256d den = _mm256_add_pd(_mm256_mul_pd(_mm256_add_pd(beta, sqrt_new), inv_alpha), l2);
    const __m256d small = _mm256_cmp_pd(_mm256_andnot_pd(sign, z), l1, _CMP_LE_OQ);
    r[0] = z;
    r[1] = n_new;
    r[2] = sqrt_new;
    r[3] = _mm256_andnot_pd(small, _mm256_div_pd(num, den));
    Transpose(r);
    for (int j = 0; j < 4; ++j) _mm256_store_pd(c[j], r[j]);
  }
  return k;
}
#else
size_t FtrlLearner::UpdateAvx(const uint32_t*, const double*, size_t, double) { return 0; }
#endif

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
  const size_t done = avx_ ? UpdateAvx(idx.data(), val.data(), idx.size(), d) : 0;
  for (size_t k = done; k < idx.size(); ++k) Update(&state_[idx[k]], d * val[k]);
  if (params_.bias) Update(&state_[dim_], d);
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
