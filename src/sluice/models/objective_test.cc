#include "sluice/models/objective.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sluice::models {
namespace {

TEST(Objective, RefusesUnknownByName) {
  auto o = FindObjective("reg:tweedie");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("'reg:tweedie'"), std::string::npos);
  EXPECT_NE(o.status().message().find("binary:logistic"), std::string::npos);
}

// xgboost 1.7 ProbToMargin: logit for logistic objectives, log for poisson, identity otherwise
// (binary:logitraw included, as python3-xgboost shows).
TEST(Objective, BaseMargin) {
  EXPECT_FLOAT_EQ(BaseMargin(*FindObjective("binary:logistic"), 0.3f), std::log(0.3f / 0.7f));
  EXPECT_FLOAT_EQ(BaseMargin(*FindObjective("reg:logistic"), 0.5f), 0.0f);
  EXPECT_FLOAT_EQ(BaseMargin(*FindObjective("count:poisson"), 0.3f), std::log(0.3f));
  EXPECT_FLOAT_EQ(BaseMargin(*FindObjective("binary:logitraw"), 0.3f), 0.3f);
  EXPECT_FLOAT_EQ(BaseMargin(*FindObjective("multi:softprob"), 0.5f), 0.5f);
}

TEST(Objective, Transforms) {
  double out[3];
  const float m[3] = {1.0f, 3.0f, 2.0f};
  TransformRow(*FindObjective("binary:logistic"), m, 1, out);
  EXPECT_NEAR(out[0], 1 / (1 + std::exp(-1.0)), 1e-7);
  TransformRow(*FindObjective("count:poisson"), m, 1, out);
  EXPECT_NEAR(out[0], std::exp(1.0), 1e-6);
  TransformRow(*FindObjective("multi:softmax"), m, 3, out);
  EXPECT_EQ(out[0], 1.0);
  TransformRow(*FindObjective("multi:softprob"), m, 3, out);
  EXPECT_NEAR(out[0] + out[1] + out[2], 1.0, 1e-6);
  EXPECT_GT(out[1], out[2]);
  const float big = -1000.0f;  // the sigmoid's clamp keeps this finite
  TransformRow(*FindObjective("binary:logistic"), &big, 1, out);
  EXPECT_GE(out[0], 0.0);
  EXPECT_LT(out[0], 1e-30);
}

}  // namespace
}  // namespace sluice::models
