#include "sluice/models/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "sluice/models/test_models.h"

namespace sluice::models {
namespace {

using testing::ModelJson;
using testing::Options;
using testing::Stump;
using testing::Tree;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::unique_ptr<Model> Load(const std::string& json) {
  auto m = LoadModelFromJson(json);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(*m) : nullptr;
}

std::string LoadError(const std::string& json) {
  auto m = LoadModelFromJson(json);
  return m.ok() ? "" : m.status().message();
}

double Score(const Model& m, std::vector<float> row) {
  double out = 0;
  m.Predict(row.data(), &out);
  return out;
}

TEST(Model, NumericSplitIsStrictLessThanAndNaNFollowsDefault) {
  auto m = Load(ModelJson({Stump(0, "5E-1", "-1E0", "2E0", 1)}));
  EXPECT_EQ(Score(*m, {0.25f, 0}), 0.5 - 1);
  EXPECT_EQ(Score(*m, {0.5f, 0}), 0.5 + 2);  // equal goes right
  EXPECT_EQ(Score(*m, {kNaN, 0}), 0.5 - 1);
  auto r = Load(ModelJson({Stump(1, "5E-1", "-1E0", "2E0", 0)}));
  EXPECT_EQ(Score(*r, {0, kNaN}), 0.5 + 2);
  EXPECT_EQ(Score(*r, {0, -std::numeric_limits<float>::infinity()}), 0.5 - 1);
  EXPECT_EQ(m->input_names(), (std::vector<std::string>{"f0", "f1"}));
  EXPECT_FALSE(m->has_feature_names());
}

TEST(Model, BaseScoreInBothFormats) {
  Options o;
  o.base_score = "\"[2.5E-1]\"";
  EXPECT_EQ(Score(*Load(ModelJson({Stump(0, "0", "1", "1")}, o)), {0, 0}), 1.25);
  o.base_score = "\"2.5E-1\"";
  EXPECT_EQ(Score(*Load(ModelJson({Stump(0, "0", "1", "1")}, o)), {0, 0}), 1.25);
}

TEST(Model, LogisticStartsFromLogitOfBaseScore) {
  Options o;
  o.objective = "binary:logistic";
  o.base_score = "\"2E-1\"";
  auto m = Load(ModelJson({Stump(0, "0", "1", "1")}, o));
  double margin = 0, p = 0;
  const float row[2] = {0, 0};
  m->PredictMargin(row, &margin);
  m->Predict(row, &p);
  EXPECT_NEAR(margin, std::log(0.2 / 0.8) + 1, 1e-6);
  EXPECT_NEAR(p, 1 / (1 + std::exp(-margin)), 1e-7);
}

// xgboost: a category in the split's set goes right; NaN takes the default; anything else left.
TEST(Model, CategoricalSplitSendsMembersRight) {
  Tree t = Stump(1, "NaN", "1E1", "2E1", 0);
  t.split_type = {1, 0, 0};
  t.cat_nodes = {0};
  t.cat_segments = {0};
  t.cat_sizes = {2};
  t.cats = {1, 40};
  auto m = Load(ModelJson({t}));
  EXPECT_EQ(Score(*m, {0, 1}), 20.5);
  EXPECT_EQ(Score(*m, {0, 40}), 20.5);
  EXPECT_EQ(Score(*m, {0, 1.9f}), 20.5);  // truncated to category 1
  EXPECT_EQ(Score(*m, {0, 2}), 10.5);
  EXPECT_EQ(Score(*m, {0, -1}), 10.5);
  EXPECT_EQ(Score(*m, {0, 1e6f}), 10.5);
  EXPECT_EQ(Score(*m, {0, kNaN}), 20.5);  // default right
}

TEST(Model, DartWeightsScaleLeaves) {
  Options o;
  o.booster = "dart";
  o.weight_drop = "[5E-1, 2E0]";
  auto m = Load(ModelJson({Stump(0, "0", "1", "1"), Stump(0, "0", "3", "3")}, o));
  EXPECT_EQ(Score(*m, {1, 0}), 0.5 + 0.5 + 6);
}

TEST(Model, MultiClassGroupsAndSoftprob) {
  Options o;
  o.objective = "multi:softprob";
  o.num_class = 3;
  o.tree_info = {0, 1, 2, 1};
  auto m = Load(ModelJson({Stump(0, "0", "1", "1"), Stump(0, "0", "2", "2"),
                           Stump(0, "0", "0", "0"), Stump(0, "0", "1", "1")},
                          o));
  ASSERT_EQ(m->num_outputs(), 3);
  double margins[3], p[3];
  const float row[2] = {0, 0};
  m->PredictMargin(row, margins);
  EXPECT_EQ(margins[0], 1.5);
  EXPECT_EQ(margins[1], 3.5);
  EXPECT_EQ(margins[2], 0.5);
  m->Predict(row, p);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1, 1e-6);
  o.objective = "multi:softmax";
  auto s = Load(ModelJson({Stump(0, "0", "1", "1"), Stump(0, "0", "2", "2"),
                           Stump(0, "0", "0", "0"), Stump(0, "0", "1", "1")},
                          o));
  EXPECT_EQ(s->num_outputs(), 1);
  EXPECT_EQ(Score(*s, {0, 0}), 1.0);
}

TEST(Model, LinearSkipsMissingFeatures) {
  Options o;
  o.booster = "gblinear";
  o.linear_weights = "[2E0, 3E0, 1E-1]";  // w0, w1, bias
  o.feature_names = "[\"a\",\"b\"]";
  auto m = Load(ModelJson({}, o));
  EXPECT_FLOAT_EQ(Score(*m, {1, 2}), 0.5f + 0.1f + 2 + 6);
  EXPECT_FLOAT_EQ(Score(*m, {kNaN, 2}), 0.5f + 0.1f + 6);
  EXPECT_EQ(m->input_names(), (std::vector<std::string>{"a", "b"}));
}

TEST(Model, NonFiniteTokensAndBooleanDefaults) {
  std::string json = ModelJson({Stump(0, "Infinity", "-1E0", "2E0")});
  EXPECT_EQ(Score(*Load(json), {1e30f, 0}), -0.5);
  json = ModelJson({Stump(0, "-Infinity", "-1E0", "2E0")});
  EXPECT_EQ(Score(*Load(json), {-1e30f, 0}), 2.5);
}

TEST(Model, RefusesUnsupportedByName) {
  Options o;
  o.objective = "reg:gamma";
  EXPECT_NE(LoadError(ModelJson({Stump(0, "0", "1", "1")}, o)).find("'reg:gamma'"),
            std::string::npos);
  o = Options();
  o.booster = "gbforest";
  EXPECT_NE(LoadError(ModelJson({Stump(0, "0", "1", "1")}, o)).find("'gbforest'"),
            std::string::npos);
  Tree t = Stump(0, "0", "1", "1");
  t.split_type = {2, 0, 0};
  EXPECT_NE(LoadError(ModelJson({t})).find("unsupported split type 2"), std::string::npos);
}

TEST(Model, RefusesMalformedTrees) {
  Tree t = Stump(0, "0", "1", "1");
  t.right[0] = 7;
  EXPECT_NE(LoadError(ModelJson({t})).find("child outside"), std::string::npos);
  t = Stump(5, "0", "1", "1");
  EXPECT_NE(LoadError(ModelJson({t})).find("feature 5"), std::string::npos);
  t = Stump(0, "0", "1", "1");
  t.left[0] = 0;  // a cycle back to the root
  EXPECT_NE(LoadError(ModelJson({t})).find("reached twice"), std::string::npos);
  EXPECT_NE(LoadError("{\"learner\": 3}").find("learner"), std::string::npos);
  EXPECT_NE(LoadError("{").find("not valid JSON"), std::string::npos);
  Options o;
  o.tree_info = {4};
  EXPECT_NE(LoadError(ModelJson({Stump(0, "0", "1", "1")}, o)).find("tree_info"),
            std::string::npos);
}

// Random trees against a plain recursive walk, through both layouts (depth <= 10 is laid out
// as perfect trees, deeper forests take the general layout) and both the row and batch paths.
struct Walker {
  std::vector<Tree> trees;
  float Leaf(const Tree& t, int i, const float* row) const {
    while (t.left[i] != -1) {
      const float x = row[t.feature[i]], thr = std::stof(t.cond[i]);
      const bool left = std::isnan(x) ? t.default_left[i] == 1 : x < thr;
      i = left ? t.left[i] : t.right[i];
    }
    return std::stof(t.cond[i]);
  }
  float Margin(const float* row) const {
    float sum = 0.5f;
    for (const Tree& t : trees) sum += Leaf(t, 0, row);
    return sum;
  }
};

void Grow(Tree* t, int node, int depth, int max_depth, int features, std::mt19937* rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  const bool split = depth < max_depth && (depth < 2 || (*rng)() % 4 != 0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", u(*rng));
  t->cond[node] = buf;
  if (!split) return;
  const int l = static_cast<int>(t->left.size()), r = l + 1;
  for (int k = 0; k < 2; ++k) {
    t->left.push_back(-1), t->right.push_back(-1), t->feature.push_back(0);
    t->cond.push_back("0"), t->default_left.push_back(0);
  }
  t->left[node] = l, t->right[node] = r;
  t->feature[node] = static_cast<int>((*rng)() % features);
  t->default_left[node] = static_cast<int>((*rng)() % 2);
  Grow(t, l, depth + 1, max_depth, features, rng);
  Grow(t, r, depth + 1, max_depth, features, rng);
}

void CheckRandomForest(int max_depth, int trees, uint32_t seed, int features = 4) {
  std::mt19937 rng(seed);
  Walker w;
  for (int i = 0; i < trees; ++i) {
    Tree t{{-1}, {-1}, {0}, {"0"}, {0}, {}, {}, {}, {}, {}};
    Grow(&t, 0, 0, max_depth, features, &rng);
    w.trees.push_back(t);
  }
  Options o;
  o.num_feature = features;
  auto m = Load(ModelJson(w.trees, o));
  ASSERT_TRUE(m);
  std::uniform_real_distribution<float> u(-1.2f, 1.2f);
  const size_t n = 203, stride = features + 1;
  std::vector<float> rows(n * stride);
  // Some cells are exactly a split threshold (x < thr must be false there, also after the
  // single-row path bins the row), zeros of both signs, infinities or missing.
  std::vector<float> thr;
  for (const Tree& t : w.trees)
    for (const std::string& c : t.cond) thr.push_back(std::stof(c));
  const float kInf = std::numeric_limits<float>::infinity();
  const float special[] = {kNaN, 0.0f, -0.0f, kInf, -kInf};
  for (float& x : rows) {
    const uint32_t pick = rng() % 10;
    x = pick < 2 ? special[rng() % 5] : pick < 5 ? thr[rng() % thr.size()] : u(rng);
  }
  std::vector<double> batch(n);
  m->PredictBatch(rows.data(), n, stride, batch.data());
  for (size_t r = 0; r < n; ++r) {
    const float want = w.Margin(&rows[r * stride]);
    double one = 0;
    m->Predict(&rows[r * stride], &one);
    ASSERT_EQ(one, want) << "row " << r << " depth " << max_depth;
    ASSERT_EQ(batch[r], want) << "row " << r << " depth " << max_depth;
  }
}

TEST(Model, RandomForestsMatchAPlainWalk) {
  CheckRandomForest(1, 3, 1);
  CheckRandomForest(3, 20, 2);
  CheckRandomForest(6, 37, 3);
  CheckRandomForest(10, 9, 4);
  CheckRandomForest(8, 70, 6);      // 32 trees at a time on a single row, then the rest one by one
  CheckRandomForest(7, 40, 7, 29);  // the single row's bins in 8 registers
  CheckRandomForest(7, 40, 8, 40);  // the single row's bins gathered
  CheckRandomForest(14, 11, 5);     // general layout
}

}  // namespace
}  // namespace sluice::models
