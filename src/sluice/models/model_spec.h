#pragma once
// What the XGBoost JSON parser produces and the evaluators are built from: the model as xgboost
// describes it (node arrays per tree), checked for shape but not yet laid out for speed.
// Internal to the module.
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/models/objective.h"

namespace sluice::models {

struct TreeSpec {
  // Per node, indexed by xgboost node id; left[i] == -1 marks a leaf whose value is cond[i].
  std::vector<int32_t> left, right, feature;
  std::vector<float> cond;
  std::vector<uint8_t> default_left, categorical;
  // For categorical nodes: the categories that go right are cats[cat_begin[i], cat_end[i]).
  std::vector<uint32_t> cat_begin, cat_end;
  std::vector<int32_t> cats;
  int group = 0;        // the output group (class) this tree adds to
  float weight = 1.0f;  // dart's weight_drop; 1 for gbtree
  int depth = 0;        // longest root-to-leaf path, set when the tree's shape is checked
};

struct ModelSpec {
  Objective objective;
  float base_score = 0.5f;
  int num_features = 0;
  int num_groups = 1;                      // margins per row: num_class for multi-class
  std::vector<std::string> feature_names;  // empty when the model was saved without names
  std::vector<std::string> feature_types;
  std::string booster;                // gbtree, dart or gblinear
  std::vector<TreeSpec> trees;        // gbtree and dart
  std::vector<float> linear_weights;  // gblinear: (num_features + 1) x num_groups, bias last
};

}  // namespace sluice::models
