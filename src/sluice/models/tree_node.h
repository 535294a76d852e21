#pragma once
// The 8-byte node both tree layouts share, and the one decision function every walk uses.
// Internal to the module.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sluice/models/model_spec.h"

namespace sluice::models {

// key: feature index in the low 29 bits, then flags. thr: the float threshold, or for a
// categorical split the offset of its category bitset in the forest's category table.
struct Node {
  uint32_t key;
  float thr;
};
static_assert(sizeof(Node) == 8);

inline constexpr uint32_t kFeatureMask = (1u << 29) - 1;
inline constexpr uint32_t kDefaultLeft = 1u << 29;
inline constexpr uint32_t kCategorical = 1u << 30;
inline constexpr uint32_t kLeaf = 1u << 31;  // the general layout's leaves (thr = leaf value)

// A categorical split as xgboost 1.7 decides it (common::Decision): a category in the split's
// set goes right; negative, fractional-part-dropped out-of-set and too-large values go left.
inline bool CategoryGoesLeft(float x, const uint32_t* slice) {
  const uint32_t words = slice[0];
  if (!(x >= 0.0f) || x >= static_cast<float>(words) * 32.0f) return true;
  const uint32_t c = static_cast<uint32_t>(x);
  return ((slice[1 + c / 32] >> (c % 32)) & 1u) == 0;
}

// xgboost's numeric split: left iff x < threshold, compared in float; a missing value (NaN)
// takes the node's default direction. Written with | and & so the compiler emits no branch.
template <bool kCats>
inline bool GoLeft(Node n, const float* row, const uint32_t* cats) {
  const float x = row[n.key & kFeatureMask];
  const bool missing = x != x;
  const bool default_left = (n.key & kDefaultLeft) != 0;
  if constexpr (kCats) {
    if (n.key & kCategorical) {
      uint32_t off;
      std::memcpy(&off, &n.thr, sizeof off);
      return missing ? default_left : CategoryGoesLeft(x, cats + off);
    }
  }
  return (x < n.thr) | (missing & default_left);
}

// Builds the node for internal node `i` of `t`, appending a categorical split's bitset to cats.
inline Node MakeSplit(const TreeSpec& t, int32_t i, std::vector<uint32_t>* cats) {
  Node n{static_cast<uint32_t>(t.feature[i]), t.cond[i]};
  if (t.default_left[i]) n.key |= kDefaultLeft;
  if (t.categorical[i]) {
    n.key |= kCategorical;
    int32_t top = 0;
    for (uint32_t j = t.cat_begin[i]; j < t.cat_end[i]; ++j) top = std::max(top, t.cats[j]);
    const uint32_t off = static_cast<uint32_t>(cats->size()), words = top / 32 + 1;
    cats->push_back(words);
    cats->resize(cats->size() + words, 0);
    for (uint32_t j = t.cat_begin[i]; j < t.cat_end[i]; ++j)
      (*cats)[off + 1 + t.cats[j] / 32] |= 1u << (t.cats[j] % 32);
    std::memcpy(&n.thr, &off, sizeof off);
  }
  return n;
}

// A leaf's contribution: its value times the tree's dart weight, rounded to float as xgboost's
// Dart::PredictBatchImpl rounds it (x 1 for gbtree, exact).
inline float LeafValue(const TreeSpec& t, int32_t i) { return t.cond[i] * t.weight; }

}  // namespace sluice::models
