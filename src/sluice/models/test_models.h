#pragma once
// Hand-built XGBoost JSON models for the unit tests: the smallest files that exercise one rule.
#include <string>
#include <vector>

namespace sluice::models::testing {

struct Tree {
  std::vector<int> left, right, feature;
  std::vector<std::string> cond;  // text, so NaN can be written as xgboost writes it
  std::vector<int> default_left, split_type;
  std::vector<int> cat_nodes, cat_segments, cat_sizes, cats;
};

template <typename T>
std::string List(const std::vector<T>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    if constexpr (std::is_same_v<T, std::string>) {
      s += v[i];
    } else {
      s += std::to_string(v[i]);
    }
  }
  return s + "]";
}

inline std::string TreeJson(const Tree& t) {
  std::vector<int> split_type = t.split_type;
  split_type.resize(t.left.size(), 0);
  return "{\"left_children\":" + List(t.left) + ",\"right_children\":" + List(t.right) +
         ",\"split_indices\":" + List(t.feature) + ",\"split_conditions\":" + List(t.cond) +
         ",\"default_left\":" + List(t.default_left) + ",\"split_type\":" + List(split_type) +
         ",\"categories_nodes\":" + List(t.cat_nodes) +
         ",\"categories_segments\":" + List(t.cat_segments) +
         ",\"categories_sizes\":" + List(t.cat_sizes) + ",\"categories\":" + List(t.cats) +
         ",\"tree_param\":{\"num_nodes\":\"" + std::to_string(t.left.size()) +
         "\",\"size_leaf_vector\":\"0\"}}";
}

struct Options {
  std::string objective = "reg:squarederror";
  std::string base_score = "\"5E-1\"";
  int num_feature = 2;
  int num_class = 0;
  std::string booster = "gbtree";
  std::vector<int> tree_info;  // default: all 0
  std::string weight_drop;     // dart: a JSON array
  std::string feature_names = "[]";
  std::string linear_weights;  // gblinear: a JSON array
};

inline std::string ModelJson(const std::vector<Tree>& trees, const Options& o = {}) {
  std::vector<std::string> tj;
  for (const Tree& t : trees) tj.push_back(TreeJson(t));
  std::vector<int> info = o.tree_info;
  info.resize(trees.size(), 0);
  std::string model = "{\"gbtree_model_param\":{\"num_trees\":\"" + std::to_string(trees.size()) +
                      "\",\"num_parallel_tree\":\"1\"},\"tree_info\":" + List(info) +
                      ",\"trees\":" + List(tj) + "}";
  std::string booster;
  if (o.booster == "dart") {
    booster = "{\"name\":\"dart\",\"gbtree\":{\"name\":\"gbtree\",\"model\":" + model +
              "},\"weight_drop\":" + o.weight_drop + "}";
  } else if (o.booster == "gblinear") {
    booster = "{\"name\":\"gblinear\",\"model\":{\"weights\":" + o.linear_weights + "}}";
  } else {
    booster = "{\"name\":\"" + o.booster + "\",\"model\":" + model + "}";
  }
  return "{\"learner\":{\"attributes\":{\"best_iteration\":\"0\"},\"feature_names\":" +
         o.feature_names + ",\"feature_types\":[],\"gradient_booster\":" + booster +
         ",\"learner_model_param\":{\"base_score\":" + o.base_score + ",\"num_class\":\"" +
         std::to_string(o.num_class) + "\",\"num_feature\":\"" + std::to_string(o.num_feature) +
         "\",\"num_target\":\"1\"},\"objective\":{\"name\":\"" + o.objective +
         "\"}},\"version\":[1,7,4]}";
}

// x0 < thr ? left_leaf : right_leaf, missing goes left when default_left.
inline Tree Stump(int feature, const std::string& thr, const std::string& left_leaf,
                  const std::string& right_leaf, int default_left = 1) {
  return Tree{{1, -1, -1},
              {2, -1, -1},
              {feature, 0, 0},
              {thr, left_leaf, right_leaf},
              {default_left, 0, 0},
              {},
              {},
              {},
              {},
              {}};
}

}  // namespace sluice::models::testing
