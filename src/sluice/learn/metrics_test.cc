#include "sluice/learn/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sluice::learn {
namespace {

TEST(Metrics, AucCountsPairsAndHalfTies) {
  // Positives 0.9, 0.4; negatives 0.5, 0.4, 0.1. Pairs won: 0.9 beats all 3; 0.4 beats 0.1 and
  // ties 0.4 (half): (3 + 1.5) / 6.
  const float s[] = {0.9f, 0.5f, 0.4f, 0.4f, 0.1f};
  const float y[] = {1, 0, 1, 0, 0};
  EXPECT_DOUBLE_EQ(RocAuc(s, y, 5), 4.5 / 6);
}

TEST(Metrics, AucIsUndefinedWithOneClass) {
  const float s[] = {0.1f, 0.2f};
  const float y[] = {1, 1};
  EXPECT_TRUE(std::isnan(RocAuc(s, y, 2)));
}

TEST(Metrics, AveragePrecisionStepsAtEachThreshold) {
  // Descending: 0.9 (1), 0.8 (0), 0.7 (1), 0.1 (0). Recall steps 0.5 at P=1, 0.5 at P=2/3.
  const float s[] = {0.1f, 0.7f, 0.8f, 0.9f};
  const float y[] = {0, 1, 0, 1};
  EXPECT_DOUBLE_EQ(AveragePrecision(s, y, 4), 0.5 * 1 + 0.5 * (2.0 / 3));
}

TEST(Metrics, AveragePrecisionTreatsTiesAsOneThreshold) {
  const float s[] = {0.5f, 0.5f};
  const float y[] = {1, 0};
  EXPECT_DOUBLE_EQ(AveragePrecision(s, y, 2), 0.5);
}

TEST(Metrics, LogLossClipsCertainMistakes) {
  const float p[] = {0.8f, 0.0f};
  const float y[] = {1, 1};
  EXPECT_NEAR(LogLoss(p, y, 2), (-std::log(double{0.8f}) - std::log(1e-15)) / 2, 1e-9);
}

TEST(Metrics, Rmse) {
  const float p[] = {1, 3};
  const float y[] = {0, 0};
  EXPECT_DOUBLE_EQ(Rmse(p, y, 2), std::sqrt(5.0));
}

}  // namespace
}  // namespace sluice::learn
