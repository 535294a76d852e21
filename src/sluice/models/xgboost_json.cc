#include "sluice/models/xgboost_json.h"

#include <algorithm>
#include <string>

#include "sluice/models/json_fields.h"

namespace sluice::models {

namespace {

using core::Status;
using json::element;

std::string At(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// The categorical-split arrays of one tree: node ids, and for each a slice of `categories`.
Status ParseCategories(element t, const std::string& path, TreeSpec* tree) {
  const size_t n = tree->left.size();
  tree->cat_begin.assign(n, 0);
  tree->cat_end.assign(n, 0);
  if (!json::HasMember(t, "categories_nodes")) return Status::Ok();
  std::vector<int32_t> nodes, segments, sizes;
  element e;
  SLUICE_RETURN_IF_ERROR(json::Member(t, "categories_nodes", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".categories_nodes", &nodes));
  SLUICE_RETURN_IF_ERROR(json::Member(t, "categories_segments", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".categories_segments", &segments));
  SLUICE_RETURN_IF_ERROR(json::Member(t, "categories_sizes", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".categories_sizes", &sizes));
  SLUICE_RETURN_IF_ERROR(json::Member(t, "categories", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".categories", &tree->cats));
  if (segments.size() != nodes.size() || sizes.size() != nodes.size())
    return Status::InvalidArgument(path + ": categories_nodes, categories_segments and " +
                                   "categories_sizes differ in length");
  for (size_t i = 0; i < tree->cats.size(); ++i) {
    if (tree->cats[i] < 0 || tree->cats[i] > kMaxCategory)
      return Status::InvalidArgument(At(path + ".categories", i) + ": category " +
                                     std::to_string(tree->cats[i]) + " is outside [0, 2^24)");
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const int64_t node = nodes[i], begin = segments[i], end = begin + int64_t{sizes[i]};
    if (node < 0 || static_cast<size_t>(node) >= n || !tree->categorical[node] ||
        tree->left[node] < 0)
      return Status::InvalidArgument(At(path + ".categories_nodes", i) + ": node " +
                                     std::to_string(node) + " is not a categorical split");
    if (begin < 0 || sizes[i] < 0 || end > static_cast<int64_t>(tree->cats.size()))
      return Status::InvalidArgument(At(path + ".categories_segments", i) +
                                     ": slice outside categories");
    tree->cat_begin[node] = static_cast<uint32_t>(begin);
    tree->cat_end[node] = static_cast<uint32_t>(end);
  }
  return Status::Ok();
}

// Walks the tree from its root without recursion: every child in range, no node reached twice
// (so the arrays describe a tree, not a cycle or a DAG), and splits on existing features. Records
// the tree's depth on the way, which the evaluator's choice of layout needs.
Status CheckShape(TreeSpec* tree, int num_features, const std::string& path) {
  const TreeSpec& t = *tree;
  const int32_t n = static_cast<int32_t>(t.left.size());
  std::vector<uint8_t> seen(n, 0);
  std::vector<std::pair<int32_t, int>> stack = {{0, 0}};  // node, its depth
  tree->depth = 0;
  while (!stack.empty()) {
    const auto [i, d] = stack.back();
    stack.pop_back();
    if (seen[i])
      return Status::InvalidArgument(path + ": node " + std::to_string(i) +
                                     " is reached twice (not a tree)");
    seen[i] = 1;
    tree->depth = std::max(tree->depth, d);
    if (t.left[i] == -1) continue;
    const std::string node = path + ": node " + std::to_string(i);
    if (t.left[i] < 0 || t.left[i] >= n || t.right[i] < 0 || t.right[i] >= n)
      return Status::InvalidArgument(node + " has a child outside [0, num_nodes)");
    if (t.feature[i] < 0 || t.feature[i] >= num_features)
      return Status::InvalidArgument(node + " splits on feature " + std::to_string(t.feature[i]) +
                                     ", the model has " + std::to_string(num_features));
    if (t.categorical[i] && t.cat_begin[i] == t.cat_end[i])
      return Status::InvalidArgument(node + " is a categorical split without categories");
    stack.push_back({t.right[i], d + 1});
    stack.push_back({t.left[i], d + 1});
  }
  return Status::Ok();
}

Status ParseTreeArrays(element t, const std::string& path, TreeSpec* tree) {
  element e;
  SLUICE_RETURN_IF_ERROR(json::Member(t, "left_children", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".left_children", &tree->left));
  SLUICE_RETURN_IF_ERROR(json::Member(t, "right_children", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".right_children", &tree->right));
  SLUICE_RETURN_IF_ERROR(json::Member(t, "split_indices", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".split_indices", &tree->feature));
  SLUICE_RETURN_IF_ERROR(json::Member(t, "split_conditions", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetFloats(e, path + ".split_conditions", &tree->cond));
  std::vector<int32_t> ints;
  SLUICE_RETURN_IF_ERROR(json::Member(t, "default_left", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".default_left", &ints));
  tree->default_left.assign(ints.begin(), ints.end());
  ints.assign(tree->left.size(), 0);  // split_type is absent before 1.6: all numerical
  if (json::HasMember(t, "split_type")) {
    SLUICE_RETURN_IF_ERROR(json::Member(t, "split_type", path, &e));
    SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".split_type", &ints));
  }
  tree->categorical.assign(ints.size(), 0);
  for (size_t i = 0; i < ints.size(); ++i) {
    if (ints[i] != 0 && ints[i] != 1)
      return Status::InvalidArgument(At(path + ".split_type", i) + ": unsupported split type " +
                                     std::to_string(ints[i]) + " (0 numerical, 1 categorical)");
    tree->categorical[i] = static_cast<uint8_t>(ints[i]);
  }
  const size_t n = tree->left.size();
  if (n == 0) return Status::InvalidArgument(path + ": a tree without nodes");
  if (tree->right.size() != n || tree->feature.size() != n || tree->cond.size() != n ||
      tree->default_left.size() != n || tree->categorical.size() != n)
    return Status::InvalidArgument(path + ": node arrays differ in length");
  return Status::Ok();
}

Status ParseTree(element t, const std::string& path, int num_features, TreeSpec* tree) {
  element e;
  if (json::HasMember(t, "tree_param")) {
    int64_t leaf_vector = 0;
    SLUICE_RETURN_IF_ERROR(json::Member(t, "tree_param", path, &e));
    if (json::HasMember(e, "size_leaf_vector")) {
      element s;
      SLUICE_RETURN_IF_ERROR(json::Member(e, "size_leaf_vector", path + ".tree_param", &s));
      SLUICE_RETURN_IF_ERROR(
          json::GetInt(s, path + ".tree_param.size_leaf_vector", 0, INT32_MAX, &leaf_vector));
    }
    if (leaf_vector > 1)
      return Status::InvalidArgument(path +
                                     ": vector leaves (multi-target trees) are not supported");
  }
  SLUICE_RETURN_IF_ERROR(ParseTreeArrays(t, path, tree));
  SLUICE_RETURN_IF_ERROR(ParseCategories(t, path, tree));
  return CheckShape(tree, num_features, path);
}

}  // namespace

// Defined in xgboost_model.cc: the learner-level keys (objective, booster, parameters).
Status ParseLearner(element learner, ModelSpec* spec);

// gbtree's "model" object: trees and the output group of each.
Status ParseTrees(element model, const std::string& path, ModelSpec* spec) {
  element e;
  json::array trees;
  SLUICE_RETURN_IF_ERROR(json::Member(model, "trees", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetArray(e, path + ".trees", &trees));
  std::vector<int32_t> info;
  SLUICE_RETURN_IF_ERROR(json::Member(model, "tree_info", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetInts(e, path + ".tree_info", &info));
  if (info.size() != trees.size())
    return Status::InvalidArgument(path + ".tree_info: " + std::to_string(info.size()) +
                                   " entries for " + std::to_string(trees.size()) + " trees");
  spec->trees.resize(trees.size());
  size_t i = 0;
  for (element t : trees) {
    const std::string tp = At(path + ".trees", i);
    if (info[i] < 0 || info[i] >= spec->num_groups)
      return Status::InvalidArgument(At(path + ".tree_info", i) + ": group " +
                                     std::to_string(info[i]) + " outside [0, " +
                                     std::to_string(spec->num_groups) + ")");
    spec->trees[i].group = info[i];
    SLUICE_RETURN_IF_ERROR(ParseTree(t, tp, spec->num_features, &spec->trees[i]));
    ++i;
  }
  return Status::Ok();
}

core::Result<ModelSpec> ParseXgboostJson(std::string_view text) {
  const std::string doc_text = json::StandardizeNonFinite(text);
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(doc_text).get(doc))
    return Status::InvalidArgument(std::string("not valid JSON: ") + simdjson::error_message(err));
  element learner;
  SLUICE_RETURN_IF_ERROR(json::Member(doc, "learner", "model", &learner));
  ModelSpec spec;
  SLUICE_RETURN_IF_ERROR(ParseLearner(learner, &spec));
  return spec;
}

}  // namespace sluice::models
