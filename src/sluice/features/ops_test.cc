#include "sluice/features/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace sluice::features {
namespace {

TEST(Ops, VarianceMergesLikeTwoPass) {
  Ops ops;
  ops.Add(OpKind::kVar, 0, 0);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> dist(1e6, 3.0);  // large mean, small spread: cancellation-prone
  std::vector<double> xs(1000);
  for (auto& x : xs) x = dist(rng);
  // Fold as a right-to-left suffix, as the two stacks do.
  std::vector<double> acc(3), one(3);
  ops.Identity(acc.data());
  for (int i = static_cast<int>(xs.size()) - 1; i >= 0; --i) {
    Slot s{.d = xs[i]};
    ops.Lift(0, i, &s, one.data());
    ops.Combine(one.data(), acc.data());
    acc = one;
  }
  double mean = 0;
  for (double x : xs) mean += x;
  mean /= xs.size();
  double m2 = 0;
  for (double x : xs) m2 += (x - mean) * (x - mean);
  EXPECT_NEAR(acc[2] / (acc[0] - 1), m2 / (xs.size() - 1), 1e-9 * m2 / xs.size());
}

TEST(Ops, FirstLastByLogOrderAndNullsSkipped) {
  Ops ops;
  int first = ops.Add(OpKind::kFirst, 0, 0);
  int last = ops.Add(OpKind::kLast, 0, 0);
  EXPECT_EQ(ops.Add(OpKind::kFirst, 0, 0), first);  // identical ops are shared
  std::vector<double> acc(ops.width()), one(ops.width());
  ops.Identity(acc.data());
  const double vals[] = {5, NAN, 7, NAN};
  const int64_t seqs[] = {3, 1, 2, 9};  // combined out of log order
  for (int i = 0; i < 4; ++i) {
    Slot s{.d = vals[i]};
    ops.Add(acc.data(), 0, seqs[i], &s, one.data());
  }
  EXPECT_EQ(acc[ops.ops()[first].offset + 1], 7);  // seq 2 is the earliest non-null
  EXPECT_EQ(acc[ops.ops()[last].offset + 1], 5);   // seq 3 is the latest non-null
}

TEST(Ops, EwmaRatioIndependentOfCombineOrder) {
  Ops ops;
  const double h = 3600e6;
  ops.Add(OpKind::kEwma, 0, h);
  const double ts[] = {0, 1800e6, 7200e6};
  const double xs[] = {10, 20, 40};
  double num = 0, den = 0;
  for (int i = 0; i < 3; ++i) {
    double w = std::exp2(-(7200e6 - ts[i]) / h);
    num += w * xs[i];
    den += w;
  }
  for (int order : {0, 1}) {
    std::vector<double> acc(3), one(3);
    ops.Identity(acc.data());
    for (int j = 0; j < 3; ++j) {
      int i = order ? 2 - j : j;
      Slot s{.d = xs[i]};
      ops.Add(acc.data(), static_cast<int64_t>(ts[i]), i, &s, one.data());
    }
    EXPECT_NEAR(acc[0] / acc[1], num / den, 1e-12);
  }
}

}  // namespace
}  // namespace sluice::features
