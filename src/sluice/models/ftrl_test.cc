#include "sluice/models/ftrl.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <vector>

namespace sluice::models {
namespace {

FtrlLearner Learner(size_t dim, FtrlParams p = {}) {
  auto l = FtrlLearner::Make(dim, p);
  EXPECT_TRUE(l.ok());
  return std::move(*l);
}

TEST(Ftrl, FirstStepMatchesAlgorithmOneByHand) {
  FtrlParams p{.alpha = 0.5, .beta = 1.0, .l1 = 0.0, .l2 = 2.0, .bias = false};
  FtrlLearner l = Learner(3, p);
  const uint32_t idx[] = {1};
  const double val[] = {4.0};
  EXPECT_EQ(l.LearnSparse(idx, val, 1.0), 0.5);  // all weights start at 0
  // g = (0.5 - 1) * 4 = -2; sigma = (sqrt(4) - 0) / 0.5 = 4; z = -2 - 4 * 0; n = 4.
  // w = -(z - sgn(z) * 0) / ((1 + 2) / 0.5 + 2) = 2 / 8.
  EXPECT_DOUBLE_EQ(l.Weight(1), 0.25);
  EXPECT_EQ(l.Weight(0), 0.0);
  EXPECT_EQ(l.Weight(2), 0.0);
  // Second step on the same example: w = 0.25, p = sigmoid(1).
  const double p2 = l.LearnSparse(idx, val, 1.0);
  EXPECT_DOUBLE_EQ(p2, 1.0 / (1.0 + std::exp(-1.0)));
  const double g = (p2 - 1.0) * 4.0;
  const double sigma = (std::sqrt(4.0 + g * g) - 2.0) / 0.5;
  const double z = -2.0 + g - sigma * 0.25;
  const double n = 4.0 + g * g;
  EXPECT_DOUBLE_EQ(l.Weight(1), -z / ((1.0 + std::sqrt(n)) / 0.5 + 2.0));
}

TEST(Ftrl, L1KeepsWeakCoordinatesAtExactlyZero) {
  FtrlParams p{.alpha = 0.1, .beta = 1.0, .l1 = 5.0, .l2 = 0.0, .bias = false};
  FtrlLearner l = Learner(2, p);
  const uint32_t idx[] = {0};
  const double val[] = {1.0};
  for (int i = 0; i < 5; ++i) l.LearnSparse(idx, val, 1.0);  // |z| grows by <= 0.5 a step
  EXPECT_EQ(l.Weight(0), 0.0);
  for (int i = 0; i < 200; ++i) l.LearnSparse(idx, val, 1.0);
  EXPECT_GT(l.Weight(0), 0.0);  // enough evidence crosses l1
}

TEST(Ftrl, SparseAndDenseUpdatesAgreeExactly) {
  FtrlLearner sparse = Learner(6), dense = Learner(6);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-2, 2);
  for (int step = 0; step < 500; ++step) {
    std::vector<double> x(6, 0.0);
    std::vector<uint32_t> idx;
    std::vector<double> val;
    for (uint32_t i = 0; i < 6; ++i) {
      if (rng() % 2) continue;
      x[i] = u(rng);
      idx.push_back(i);
      val.push_back(x[i]);
    }
    const double y = static_cast<double>(rng() % 2);
    ASSERT_EQ(sparse.LearnSparse(idx, val, y), dense.LearnDense(x, y)) << step;
  }
  for (size_t i = 0; i <= 6; ++i) EXPECT_EQ(sparse.Weight(i), dense.Weight(i)) << i;
}

// Sparse updates run 4 coordinates at a time in AVX registers where the CPU has AVX, with w and
// sqrt(n) kept from the prediction for the first kKept (64) features and recomputed past them;
// dense ones run the scalar Update(), recomputing each. Both must give the same bits, over
// examples of ~67 features (so on both sides of 64) and several parameter sets.
TEST(Ftrl, WideSparseUpdatesMatchScalarDenseExactly) {
  for (FtrlParams p : {FtrlParams{}, FtrlParams{.alpha = 0.5, .beta = 0, .l1 = 0, .l2 = 0},
                       FtrlParams{.alpha = 0.05, .beta = 2, .l1 = 3, .l2 = 0.5, .bias = false}}) {
    constexpr uint32_t kDim = 200;
    FtrlLearner sparse = Learner(kDim, p), dense = Learner(kDim, p);
    std::mt19937_64 rng(11);
    std::normal_distribution<double> nd;
    for (int step = 0; step < 2000; ++step) {
      std::vector<double> x(kDim, 0.0);
      std::vector<uint32_t> idx;
      std::vector<double> val;
      for (uint32_t i = 0; i < kDim; ++i) {
        if (rng() % 3) continue;
        x[i] = rng() % 4 ? nd(rng) : 1.0;
        idx.push_back(i);
        val.push_back(x[i]);
      }
      const double y = static_cast<double>(rng() % 2);
      ASSERT_EQ(sparse.LearnSparse(idx, val, y), dense.LearnDense(x, y)) << step;
    }
    for (size_t i = 0; i < kDim; ++i) EXPECT_EQ(sparse.Weight(i), dense.Weight(i)) << i;
    EXPECT_EQ(sparse.Bias(), dense.Bias());
  }
}

TEST(Ftrl, LearnsASimpleRuleAndExportsIt) {
  FtrlParams p{.alpha = 0.5, .beta = 1.0, .l1 = 0.1, .l2 = 0.1};
  FtrlLearner l = Learner(4, p);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> nd;
  std::vector<double> x(4);
  for (int step = 0; step < 20000; ++step) {
    for (double& v : x) v = nd(rng);
    const double y = x[0] - 2 * x[2] + 0.3 * nd(rng) > 0 ? 1.0 : 0.0;
    l.LearnDense(x, y);
  }
  EXPECT_GT(l.Weight(0), 1.0);
  EXPECT_LT(l.Weight(2), -2.0);
  EXPECT_LT(std::fabs(l.Weight(1)), 0.3);
  auto m = l.ToModel({"a", "b", "c", "d"});
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->kind(), LinearKind::kLogistic);
  EXPECT_EQ(m->bias(), l.Bias());
  const double row[] = {0.3, -1.0, 0.2, 2.0};
  EXPECT_DOUBLE_EQ(m->Predict(row), l.PredictDense(row));
  EXPECT_NE(m->metadata_json().find("ftrl-proximal"), std::string::npos);
  EXPECT_FALSE(l.ToModel({"just_one"}).ok());
}

// A small dimension, so consecutive examples share coordinates most of the time; examples of 0
// to 12 features; batches of uneven sizes.
TEST(Ftrl, BatchLearningEqualsSequentialToTheBit) {
  constexpr size_t kDim = 24;
  FtrlLearner seq = Learner(kDim), batch = Learner(kDim);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> nd;
  std::vector<uint32_t> idx;
  std::vector<double> val, y, want;
  std::vector<size_t> offsets = {0};
  for (int e = 0; e < 3000; ++e) {
    const size_t k = rng() % 13;
    std::vector<uint32_t> f(kDim);
    for (uint32_t i = 0; i < kDim; ++i) f[i] = i;
    std::shuffle(f.begin(), f.end(), rng);
    for (size_t j = 0; j < k; ++j) idx.push_back(f[j]), val.push_back(rng() % 3 ? 1.0 : nd(rng));
    offsets.push_back(idx.size());
    y.push_back(static_cast<double>(rng() % 2));
    want.push_back(
        seq.LearnSparse({idx.data() + offsets[e], k}, {val.data() + offsets[e], k}, y.back()));
  }
  std::vector<double> got(y.size());
  for (size_t e = 0, m = 1; e < y.size(); e += m, m = m * 3 % 1000 + 1) {
    m = std::min(m, y.size() - e);
    batch.LearnBatch(idx, val, std::span(offsets).subspan(e, m + 1), std::span(y).subspan(e, m),
                     std::span(got).subspan(e, m));
  }
  for (size_t e = 0; e < y.size(); ++e) ASSERT_EQ(got[e], want[e]) << "example " << e;
  for (size_t i = 0; i <= kDim; ++i)
    EXPECT_EQ(batch.Weight(i), seq.Weight(i)) << "coordinate " << i;
}

TEST(Ftrl, RejectsBadParameters) {
  EXPECT_FALSE(FtrlLearner::Make(3, {.alpha = 0}).ok());
  EXPECT_FALSE(FtrlLearner::Make(3, {.alpha = 0.1, .beta = -1}).ok());
  EXPECT_FALSE(FtrlLearner::Make(3, {.alpha = 0.1, .l1 = NAN}).ok());
  EXPECT_TRUE(FtrlLearner::Make(3, {.alpha = 0.1, .beta = 0, .l1 = 0, .l2 = 0}).ok());
}

}  // namespace
}  // namespace sluice::models
