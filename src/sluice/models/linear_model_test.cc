#include "sluice/models/linear_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sluice/models/input_check.h"
#include "sluice/models/test_util.h"

namespace sluice::models {
namespace {

constexpr char kModel[] =
    R"({"format":"sluice-linear","version":1,"kind":"logistic","inputs":["a","b"],)"
    R"("weights":[0.5,-1.25],"bias":0.1})";

TEST(LinearModel, PredictsLogisticAndLinear) {
  auto m = LinearModel::Parse(kModel, "m.json");
  ASSERT_TRUE(m.ok()) << m.status().message();
  const double x[] = {2.0, 1.0};
  const double margin = 0.1 + 0.5 * 2.0 - 1.25 * 1.0;
  EXPECT_DOUBLE_EQ(m->Margin(x), margin);
  EXPECT_DOUBLE_EQ(m->Predict(x), 1.0 / (1.0 + std::exp(-margin)));
  auto lin = LinearModel::Make(LinearKind::kLinear, {"a", "b"}, {0.5, -1.25}, 0.1);
  ASSERT_TRUE(lin.ok());
  EXPECT_DOUBLE_EQ(lin->Predict(x), margin);
}

TEST(LinearModel, MissingInputAddsNothing) {
  auto m = LinearModel::Make(LinearKind::kLinear, {"a", "b"}, {2.0, 3.0}, 1.0);
  ASSERT_TRUE(m.ok());
  const double x[] = {std::numeric_limits<double>::quiet_NaN(), 1.0};
  EXPECT_EQ(m->Predict(x), 4.0);
}

TEST(LinearModel, BatchEqualsSingleRows) {
  auto m = LinearModel::Parse(kModel, "m.json");
  ASSERT_TRUE(m.ok());
  const std::vector<double> rows = {1, 2, -3, 0.5, 0, 0};
  std::vector<double> out(3);
  m->PredictBatch(rows, out);
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(out[r], m->Predict(std::span<const double>(rows).subspan(2 * r, 2)));
  }
}

TEST(LinearModel, RoundTripsThroughJsonBitForBit) {
  auto m = LinearModel::Make(LinearKind::kLogistic, {"x", "y \"q\""}, {0.1 + 0.2, -1e-300}, 1 / 3.0,
                             R"({"note":"kept"})");
  ASSERT_TRUE(m.ok());
  TempDir dir;
  const std::string path = dir.path() + "/m.json";
  ASSERT_TRUE(m->Save(path).ok());
  auto back = LinearModel::Load(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->inputs(), m->inputs());
  EXPECT_EQ(back->weights(), m->weights());  // exact: numbers print round-trip
  EXPECT_EQ(back->bias(), m->bias());
  EXPECT_EQ(back->kind(), LinearKind::kLogistic);
  EXPECT_EQ(back->metadata_json(), R"({"note":"kept"})");
  EXPECT_EQ(back->ToJson(), m->ToJson());
}

TEST(LinearModel, RejectsMalformedFilesWithAReason) {
  struct Case {
    const char* json;
    const char* want;
  } cases[] = {
      {"[1]", "JSON object"},
      {"{", "invalid JSON"},
      {R"({"format":"other","version":1,"kind":"linear","inputs":[],"weights":[],"bias":0})",
       "\"format\""},
      {R"({"format":"sluice-linear","version":2,"kind":"linear","inputs":[],"weights":[],"bias":0})",
       "\"version\""},
      {R"({"format":"sluice-linear","version":1,"kind":"svm","inputs":[],"weights":[],"bias":0})",
       "\"kind\""},
      {R"({"format":"sluice-linear","version":1,"kind":"linear","inputs":["a"],"weights":[],"bias":0})",
       "1 inputs but 0 weights"},
      {R"({"format":"sluice-linear","version":1,"kind":"linear","inputs":["a","a"],"weights":[1,2],"bias":0})",
       "appears twice"},
      {R"({"format":"sluice-linear","version":1,"kind":"linear","inputs":[],"weights":[]})",
       "\"bias\" is missing"},
      {R"({"format":"sluice-linear","version":1,"kind":"linear","inputs":[],"weights":[],"bias":0,"x":1})",
       "unknown key \"x\""},
      {R"({"format":"sluice-linear","version":1,"kind":"linear","inputs":["a"],"weights":["1"],"bias":0})",
       "must hold numbers"},
      // Found by test/fuzz/linear_model_fuzzer: absent arrays and repeated keys were accepted.
      {R"({"format":"sluice-linear","version":1,"kind":"linear","bias":0})", "\"inputs\" is missing"},
      {R"({"format":"sluice-linear","version":1,"kind":"linear","inputs":[],"bias":0})",
       "\"weights\" is missing"},
      {R"({"format":"sluice-linear","version":1,"kind":"linear","inputs":["a"],"inputs":["b"],"weights":[1,2],"bias":0})",
       "key \"inputs\" appears twice"},
  };
  for (const auto& c : cases) {
    auto m = LinearModel::Parse(c.json, "f.json");
    ASSERT_FALSE(m.ok()) << c.json;
    EXPECT_NE(m.status().message().find(c.want), std::string::npos) << m.status().message();
    EXPECT_EQ(m.status().message().rfind("f.json: ", 0), 0u) << m.status().message();
  }
}

TEST(LinearModel, SigmoidIsStableAtTheExtremes) {
  EXPECT_EQ(Sigmoid(0), 0.5);
  EXPECT_EQ(Sigmoid(1000), 1.0);
  EXPECT_EQ(Sigmoid(-1000), 0.0);
  EXPECT_GT(Sigmoid(-700), 0.0);
  EXPECT_DOUBLE_EQ(Sigmoid(-2) + Sigmoid(2), 1.0);
}

TEST(CheckInputs, NamesWhatIsMissingInModelOrderOnce) {
  EXPECT_TRUE(CheckInputs({"a", "b"}, {"b", "a", "c"}).empty());
  EXPECT_EQ(CheckInputs({"z", "a", "y", "z"}, {"a"}), (std::vector<std::string>{"z", "y"}));
  EXPECT_EQ(JoinNames({"z", "y", "x"}), "z, y and x");
}

}  // namespace
}  // namespace sluice::models
