// Tree ensembles laid out for scoring. Two layouts:
// - perfect (every tree at most kMaxPerfectDepth deep, the common case): each tree is padded to a
//   complete binary tree of the forest's depth D, internal nodes in heap order (children of i at
//   2i+1 and 2i+2) and leaves in a separate float array. A walk is exactly D steps of
//   `i = 2i + 2 - go_left` with no data-dependent branch, so several walks (8 trees of one row, or
//   8 rows of one tree) run interleaved and their cache misses overlap. Single rows of numeric
//   forests walk a second copy with 4-byte nodes over the row's bin indices (BuildBinned).
// - general (deeper trees): nodes in pre-order, left child next, right child by index, leaves
//   flagged; a walk loops until it reaches a leaf.
// Trees are added in model order into float accumulators, as xgboost's CPU predictor adds them,
// so sums round the same way.
#include <algorithm>
#include <memory>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "sluice/models/scorer.h"
#include "sluice/models/tree_node.h"

namespace sluice::models {

namespace {

inline constexpr int kMaxPerfectDepth = 10;
inline constexpr size_t kMaxPerfectBytes = size_t{512} << 20;
inline constexpr size_t kMaxCategoryWords = size_t{1} << 24;
inline constexpr uint32_t kMaxBinnedFeatures = 2048;  // the binned row lives on the stack
inline constexpr int kBinnedTopLines = 4;
inline constexpr int kLanes = 8;  // walks in lock step: rows of one tree, or trees of one row

class PerfectForest final : public Scorer {
 public:
  PerfectForest(const ModelSpec& spec, int depth) : depth_(depth), groups_(spec.num_groups) {
    inner_ = (1u << depth) - 1;
    const size_t trees = spec.trees.size();
    nodes_.resize(trees * inner_);
    leaves_.resize(trees * (inner_ + 1));
    for (size_t t = 0; t < trees; ++t) {
      const TreeSpec& tree = spec.trees[t];
      group_.push_back(static_cast<uint32_t>(tree.group));
      Fill(tree, 0, 0, 0, &nodes_[t * inner_], &leaves_[t * (inner_ + 1)]);
    }
    has_cats_ = !cats_.empty();
#if defined(__x86_64__)
    avx2_ = __builtin_cpu_supports("avx2");
    if (avx2_ && !has_cats_) BuildBinned();
#endif
  }

  void AddMargins(const float* rows, size_t n, size_t stride, float* acc) const override {
    if (has_cats_) return Add<true>(rows, n, stride, acc);
    return Add<false>(rows, n, stride, acc);
  }

 private:
  // Copies node `src` to heap position `pos`; a leaf above depth D fills its whole padded subtree
  // (internal positions split on feature 0 and lead to copies of the leaf either way).
  void Fill(const TreeSpec& t, int32_t src, uint32_t pos, int level, Node* nodes, float* leaves) {
    if (level == depth_) {
      leaves[pos - inner_] = LeafValue(t, src);
      return;
    }
    const bool leaf = t.left[src] == -1;
    nodes[pos] = leaf ? Node{0, 0.0f} : MakeSplit(t, src, &cats_);
    Fill(t, leaf ? src : t.left[src], 2 * pos + 1, level + 1, nodes, leaves);
    Fill(t, leaf ? src : t.right[src], 2 * pos + 2, level + 1, nodes, leaves);
  }

  template <bool kCats>
  void Add(const float* rows, size_t n, size_t stride, float* acc) const {
    if (n == 1) return AddRow<kCats>(rows, acc);
    const float* row[kMaxBlockRows];
    for (size_t r = 0; r < n; ++r) row[r] = rows + r * stride;
    const Node* nodes[kLanes];
    uint32_t idx[kLanes];
    for (size_t t = 0; t < group_.size(); ++t) {
      const float* leaves = Leaves(t);
      std::fill(nodes, nodes + kLanes, nodes_.data() + t * inner_);
      size_t r = 0;
      for (; r + kLanes <= n; r += kLanes) {
        Walk<kCats, kLanes>(nodes, row + r, idx);
        for (int k = 0; k < kLanes; ++k) acc[(r + k) * groups_ + group_[t]] += leaves[idx[k]];
      }
      for (; r < n; ++r) {
        Walk<kCats, 1>(nodes, row + r, idx);
        acc[r * groups_ + group_[t]] += leaves[idx[0]];
      }
    }
  }

  // One row through kLanes trees at a time, their leaves added in tree order.
  template <bool kCats>
  void AddRow(const float* row, float* acc) const {
    const float* rows[kLanes];
    std::fill(rows, rows + kLanes, row);
    const Node* nodes[kLanes];
    uint32_t idx[kLanes];
    size_t t = 0;
    if constexpr (!kCats) {
      if (!bnodes_.empty()) {
        t = AddRowBinned(row, acc);
      } else if (avx2_) {
        t = AddRowGather(row, acc);
      }
    }
    for (; t + kLanes <= group_.size(); t += kLanes) {
      for (int k = 0; k < kLanes; ++k) nodes[k] = nodes_.data() + (t + k) * inner_;
      Walk<kCats, kLanes>(nodes, rows, idx);
      for (int k = 0; k < kLanes; ++k) acc[group_[t + k]] += Leaves(t + k)[idx[k]];
    }
    for (; t < group_.size(); ++t) {
      nodes[0] = nodes_.data() + t * inner_;
      Walk<kCats, 1>(nodes, rows, idx);
      acc[group_[t]] += Leaves(t)[idx[0]];
    }
  }

#if defined(__x86_64__)
  // AddRow for numeric splits with AVX2 when the binned layout could not be built (more than
  // kMaxBinnedFeatures features or 65535 thresholds of one feature): 8 * kRegs trees at a time, a
  // walk per 32-bit lane of kRegs registers, every node, feature value and leaf fetched by a
  // gather. A step is ~10 vector instructions for 8 trees instead of ~14 scalar ones per tree, and
  // the 32 walks' misses overlap (8 and 16 walks were measurably slower, docs/benchmarks.md). The
  // comparisons are the scalar ones (x < thr, ordered; NaN takes the default), and leaves are added
  // in tree order, so the result is the same to the bit. Returns how many trees it scored; AddRow
  // does the rest.
  static constexpr int kRegs = 4;
  __attribute__((target("avx2"))) size_t AddRowGather(const float* row, float* acc) const {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i node_off = _mm256_mullo_epi32(lane, _mm256_set1_epi32(2 * inner_));
    const __m256i leaf_off = _mm256_sub_epi32(
        _mm256_mullo_epi32(lane, _mm256_set1_epi32(inner_ + 1)), _mm256_set1_epi32(inner_));
    const auto* words = reinterpret_cast<const int*>(nodes_.data());
    const size_t n = group_.size();
    size_t t = 0;
    for (; t + 8 * kRegs <= n; t += 8 * kRegs) {
      const int* base[kRegs];
      __m256i at[kRegs];
      for (int h = 0; h < kRegs; ++h) {
        base[h] = words + (t + 8 * h) * 2 * inner_;
        at[h] = _mm256_setzero_si256();
      }
      // The next trees' top 4 levels (15 nodes, 120 bytes): known addresses, so their misses
      // need not wait for this group's walks.
      for (size_t k = t + 8 * kRegs; k < std::min(n, t + 16 * kRegs); ++k) {
        const char* top = reinterpret_cast<const char*>(nodes_.data() + k * inner_);
        for (int line : {0, 64, 119}) _mm_prefetch(top + line, _MM_HINT_T0);
      }
      for (int d = 0; d < depth_; ++d) {
        for (int h = 0; h < kRegs; ++h) at[h] = GatherStep(base[h], node_off, at[h], row);
      }
      alignas(32) float leaf[8 * kRegs];
      for (int h = 0; h < kRegs; ++h) {
        const float* leaves = leaves_.data() + (t + 8 * h) * (inner_ + 1);
        _mm256_store_ps(leaf + 8 * h,
                        _mm256_i32gather_ps(leaves, _mm256_add_epi32(leaf_off, at[h]), 4));
      }
      for (int k = 0; k < 8 * kRegs; ++k) acc[group_[t + k]] += leaf[k];
    }
    return t;
  }

  // The single-row layout: every feature's split thresholds, sorted and distinct, and each node
  // as one 32-bit word {slot << 16 | bin}. A row is binned once per call: bin(x) is the number of
  // the feature's thresholds <= x, and the node's bin is its threshold's position + 1, so
  // x < thr <=> bin(x) < node bin, exactly. Each feature has two slots (2f: NaN is bin 0, goes
  // left; 2f + 1: NaN is bin 0xFFFF, goes right) and a node reads the one of its default
  // direction, so the walk has no missing-value test. Nodes are half the size of the heap
  // layout's, and a step is two gathers instead of three.
  void BuildBinned() {
    uint32_t features = 0;
    for (const Node& n : nodes_) features = std::max(features, (n.key & kFeatureMask) + 1);
    if (features > kMaxBinnedFeatures) return;
    std::vector<std::vector<float>> thr(features);
    for (const Node& n : nodes_) {
      if (n.thr != n.thr) return;
      thr[n.key & kFeatureMask].push_back(n.thr);
    }
    bin_begin_.push_back(0);
    for (auto& v : thr) {
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      if (v.size() >= 0xFFFF) return;
      bin_thr_.insert(bin_thr_.end(), v.begin(), v.end());
      bin_begin_.push_back(static_cast<uint32_t>(bin_thr_.size()));
    }
    const size_t trees = group_.size();
    bnodes_.assign(trees * (inner_ + 1) + 16, 0);
    // Trees start on cache lines, so a tree's top levels are its first line.
    const uintptr_t addr = reinterpret_cast<uintptr_t>(bnodes_.data());
    bwords_ = bnodes_.data() + ((64 - addr % 64) % 64) / 4;
    for (size_t t = 0; t < trees; ++t) {
      for (uint32_t i = 0; i < inner_; ++i) {
        const Node n = nodes_[t * inner_ + i];
        const uint32_t f = n.key & kFeatureMask;
        const auto& v = thr[f];
        const uint32_t bin = std::lower_bound(v.begin(), v.end(), n.thr) - v.begin() + 1;
        const uint32_t slot = 2 * f + ((n.key & kDefaultLeft) ? 0 : 1);
        bwords_[t * (inner_ + 1) + i] = slot << 16 | bin;
      }
    }
  }

  // How many of the sorted v[0, n) are <= x: a binary search without branches (a row's values
  // are random, so a branchy search mispredicts about every other step).
  static int32_t CountAtMost(const float* v, size_t n, float x) {
    const float* b = v;
    while (n > 1) {
      const size_t half = n / 2;
      b = b[half] <= x ? b + half : b;
      n -= half;
    }
    return static_cast<int32_t>(b - v) + (n == 1 && b[0] <= x);
  }

  // slot 2f and 2f + 1 of feature f, as described at BuildBinned.
  void BinRow(const float* row, int32_t* bins) const {
    const size_t features = bin_begin_.size() - 1;
    for (size_t f = 0; f < features; ++f) {
      const float x = row[f];
      const float* lo = bin_thr_.data() + bin_begin_[f];
      const float* hi = bin_thr_.data() + bin_begin_[f + 1];
      const int32_t b = CountAtMost(lo, hi - lo, x);
      const bool missing = x != x;
      bins[2 * f] = missing ? 0 : b;
      bins[2 * f + 1] = missing ? 0xFFFF : b;
    }
  }

  // AddRow over the binned layout: as AddRowGather, with two gathers per step instead of three,
  // nodes half the size (a depth-8 tree's levels 0-5 are its first 4 lines, prefetched for the
  // next 32 trees) and no missing-value test. The leaves are added in tree order.
  __attribute__((target("avx2"))) size_t AddRowBinned(const float* row, float* acc) const {
    alignas(32) int32_t bins[2 * kMaxBinnedFeatures];
    BinRow(row, bins);
    const size_t slots = 2 * (bin_begin_.size() - 1);
    switch ((slots + 7) / 8) {
      case 1:
        return BinnedGroups<1>(bins, acc);
      case 2:
        return BinnedGroups<2>(bins, acc);
      case 3:
        return BinnedGroups<3>(bins, acc);
      case 4:
        return BinnedGroups<4>(bins, acc);
      case 5:
        return BinnedGroups<5>(bins, acc);
      case 6:
        return BinnedGroups<6>(bins, acc);
      case 7:
        return BinnedGroups<7>(bins, acc);
      case 8:
        return BinnedGroups<8>(bins, acc);
      default:
        break;
    }
    return BinnedGroups<0>(bins, acc);
  }

  // kTables > 0 (up to 32 features): the row's bins are kTables registers of 8, and a step looks
  // them up with permutes and blends instead of a gather: ~7% faster on 20 features, measured.
  // kTables == 0: gathered from the stack.
  template <int kTables>
  __attribute__((target("avx2"))) size_t BinnedGroups(const int32_t* bins, float* acc) const {
    __m256i tab[kTables > 0 ? kTables : 1];
    for (int k = 0; k < kTables; ++k)
      tab[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(bins + 8 * k));
    constexpr int R = kRegs;
    const uint32_t stride = inner_ + 1;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i node_off = _mm256_mullo_epi32(lane, _mm256_set1_epi32(stride));
    const __m256i leaf_off = _mm256_sub_epi32(node_off, _mm256_set1_epi32(inner_));
    const auto* words = reinterpret_cast<const int*>(bwords_);
    const size_t n = group_.size();
    size_t t = 0;
    for (; t + 8 * R <= n; t += 8 * R) {
      __m256i at[R];
#pragma GCC unroll 8
      for (int h = 0; h < R; ++h) at[h] = _mm256_setzero_si256();
      // The next trees' first kBinnedTopLines lines (levels 0-5 of a depth-8 tree).
      for (size_t k = t + 8 * R; k < std::min(n, t + 16 * R); ++k) {
        const char* top = reinterpret_cast<const char*>(words + k * stride);
        for (int line = 0; line < kBinnedTopLines; ++line)
          _mm_prefetch(top + 64 * line, _MM_HINT_T0);
      }
      for (int d = 0; d < depth_; ++d) {
#pragma GCC unroll 8
        for (int h = 0; h < R; ++h)
          at[h] = BinnedStep<kTables>(words + (t + 8 * h) * stride, node_off, at[h], bins, tab);
      }
      alignas(32) float leaf[8 * R];
#pragma GCC unroll 8
      for (int h = 0; h < R; ++h) {
        const float* leaves = leaves_.data() + (t + 8 * h) * stride;
        _mm256_store_ps(leaf + 8 * h,
                        _mm256_i32gather_ps(leaves, _mm256_add_epi32(leaf_off, at[h]), 4));
      }
      if (groups_ == 1) {
        float sum = acc[0];  // in a register: acc may alias group_ for the compiler
        for (int k = 0; k < 8 * R; ++k) sum += leaf[k];
        acc[0] = sum;
      } else {
        for (int k = 0; k < 8 * R; ++k) acc[group_[t + k]] += leaf[k];
      }
    }
    return t;
  }

  // One step of 8 walks over the binned layout: lane k reads word at[k] of its tree, then the
  // row's bin in the word's slot; at = 2 at + 2 - go_left.
  template <int kTables>
  __attribute__((target("avx2"))) static __m256i BinnedStep(const int* base, __m256i node_off,
                                                            __m256i at, const int32_t* bins,
                                                            const __m256i* tab) {
    const __m256i word = _mm256_i32gather_epi32(base, _mm256_add_epi32(node_off, at), 4);
    const __m256i slot = _mm256_srli_epi32(word, 16);
    __m256i x;
    if constexpr (kTables == 0) {
      x = _mm256_i32gather_epi32(bins, slot, 4);
    } else {
      x = _mm256_permutevar8x32_epi32(tab[0], slot);
#pragma GCC unroll 8
      for (int k = 1; k < kTables; ++k) {
        const __m256i in_k = _mm256_cmpgt_epi32(slot, _mm256_set1_epi32(8 * k - 1));
        x = _mm256_blendv_epi8(x, _mm256_permutevar8x32_epi32(tab[k], slot), in_k);
      }
    }
    const __m256i bin = _mm256_and_si256(word, _mm256_set1_epi32(0xFFFF));
    const __m256i left = _mm256_cmpgt_epi32(bin, x);  // -1 when x's bin < the node's
    return _mm256_add_epi32(_mm256_add_epi32(at, at), _mm256_add_epi32(_mm256_set1_epi32(2), left));
  }

  // One step of 8 walks: lane k reads node at[k] of the tree at word offset node_off[k] from
  // base, then at = 2 at + 2 - go_left.
  __attribute__((target("avx2"))) static __m256i GatherStep(const int* base, __m256i node_off,
                                                            __m256i at, const float* row) {
    const __m256i i = _mm256_add_epi32(node_off, _mm256_add_epi32(at, at));
    const __m256i key = _mm256_i32gather_epi32(base, i, 4);
    const __m256 thr = _mm256_i32gather_ps(reinterpret_cast<const float*>(base + 1), i, 4);
    const __m256 x =
        _mm256_i32gather_ps(row, _mm256_and_si256(key, _mm256_set1_epi32(kFeatureMask)), 4);
    // kDefaultLeft (bit 29) spread over the lane: 0 or all ones.
    const __m256 dl = _mm256_castsi256_ps(_mm256_srai_epi32(_mm256_slli_epi32(key, 2), 31));
    const __m256 left = _mm256_or_ps(_mm256_cmp_ps(x, thr, _CMP_LT_OQ),
                                     _mm256_and_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q), dl));
    // go_left is 0 or -1 here.
    return _mm256_add_epi32(_mm256_add_epi32(at, at),
                            _mm256_add_epi32(_mm256_set1_epi32(2), _mm256_castps_si256(left)));
  }
#else
  size_t AddRowGather(const float*, float*) const { return 0; }
  size_t AddRowBinned(const float*, float*) const { return 0; }
  void BuildBinned() {}
#endif

  // L walks in lock step, lane k through tree nodes[k] with row rows[k]; idx gets each lane's
  // final heap position (index Leaves() with it). Unrolled so the lanes' positions stay in
  // registers and their loads overlap.
  template <bool kCats, int L>
  void Walk(const Node* const* nodes, const float* const* rows, uint32_t* idx) const {
    uint32_t at[L];
    for (int k = 0; k < L; ++k) at[k] = 0;
    const uint32_t* cats = cats_.data();
    for (int d = 0; d < depth_; ++d) {
#pragma GCC unroll 8
      for (int k = 0; k < L; ++k)
        at[k] = 2 * at[k] + 2 - GoLeft<kCats>(nodes[k][at[k]], rows[k], cats);
    }
    for (int k = 0; k < L; ++k) idx[k] = at[k];
  }

  // Tree t's leaves, indexed by the final heap position of a walk (inner_ .. 2 * inner_).
  const float* Leaves(size_t t) const { return leaves_.data() + t * (inner_ + 1) - inner_; }

  int depth_;
  size_t groups_;
  uint32_t inner_;               // internal nodes per tree: 2^D - 1
  std::vector<Node> nodes_;      // trees x inner_
  std::vector<float> leaves_;    // trees x 2^D
  std::vector<uint32_t> group_;  // per tree
  std::vector<uint32_t> cats_;   // category bitsets: [words, word0, word1, ...] per split
  bool has_cats_ = false;
  bool avx2_ = false;  // the CPU has AVX2 (single rows walk with gathers)
  // The single-row layout (BuildBinned); empty when not built.
  std::vector<uint32_t> bnodes_;     // trees x (inner_ + 1): {slot << 16 | bin}, one pad word
  uint32_t* bwords_ = nullptr;       // bnodes_'s first 64-byte aligned word
  std::vector<float> bin_thr_;       // every feature's distinct thresholds, ascending
  std::vector<uint32_t> bin_begin_;  // feature f's thresholds: [bin_begin_[f], bin_begin_[f+1])
};

class GeneralForest final : public Scorer {
 public:
  explicit GeneralForest(const ModelSpec& spec) : groups_(spec.num_groups) {
    for (const TreeSpec& t : spec.trees) {
      root_.push_back(static_cast<uint32_t>(nodes_.size()));
      group_.push_back(static_cast<uint32_t>(t.group));
      Flatten(t);
    }
    has_cats_ = !cats_.empty();
  }

  void AddMargins(const float* rows, size_t n, size_t stride, float* acc) const override {
    if (has_cats_) return Add<true>(rows, n, stride, acc);
    return Add<false>(rows, n, stride, acc);
  }

 private:
  // Pre-order without recursion (a deep tree must not exhaust the stack).
  void Flatten(const TreeSpec& t) {
    constexpr uint32_t kNone = UINT32_MAX;
    std::vector<std::pair<int32_t, uint32_t>> stack = {{0, kNone}};  // node, parent to patch
    while (!stack.empty()) {
      auto [i, parent] = stack.back();
      stack.pop_back();
      const uint32_t at = static_cast<uint32_t>(nodes_.size());
      if (parent != kNone) right_[parent] = at;
      if (t.left[i] == -1) {
        nodes_.push_back(Node{kLeaf, LeafValue(t, i)});
        right_.push_back(0);
        continue;
      }
      nodes_.push_back(MakeSplit(t, i, &cats_));
      right_.push_back(0);
      stack.push_back({t.right[i], at});
      stack.push_back({t.left[i], kNone});
    }
  }

  template <bool kCats>
  void Add(const float* rows, size_t n, size_t stride, float* acc) const {
    const uint32_t* cats = cats_.data();
    for (size_t t = 0; t < root_.size(); ++t) {
      for (size_t r = 0; r < n; ++r) {
        const float* row = rows + r * stride;
        uint32_t i = root_[t];
        while (!(nodes_[i].key & kLeaf))
          i = GoLeft<kCats>(nodes_[i], row, cats) ? i + 1 : right_[i];
        acc[r * groups_ + group_[t]] += nodes_[i].thr;
      }
    }
  }

  size_t groups_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> right_, root_, group_, cats_;
  bool has_cats_ = false;
};

}  // namespace

core::Result<std::unique_ptr<const Scorer>> BuildForest(const ModelSpec& spec) {
  int depth = 0;
  size_t words = 0;
  for (const TreeSpec& t : spec.trees) {
    depth = std::max(depth, t.depth);
    for (size_t i = 0; i < t.left.size(); ++i) {
      int32_t top = -1;
      for (uint32_t j = t.cat_begin[i]; j < t.cat_end[i]; ++j) top = std::max(top, t.cats[j]);
      if (top >= 0) words += static_cast<size_t>(top) / 32 + 2;
    }
  }
  if (words > kMaxCategoryWords)
    return core::Status::InvalidArgument("categorical splits need more than 64 MiB of bitsets");
  // 8-byte nodes, 4-byte leaves and the single-row layout's 4-byte nodes per heap position.
  const size_t perfect_bytes = spec.trees.size() * (size_t{16} << std::min(depth, 30));
  if (depth <= kMaxPerfectDepth && perfect_bytes <= kMaxPerfectBytes)
    return std::unique_ptr<const Scorer>(std::make_unique<PerfectForest>(spec, depth));
  return std::unique_ptr<const Scorer>(std::make_unique<GeneralForest>(spec));
}

}  // namespace sluice::models
