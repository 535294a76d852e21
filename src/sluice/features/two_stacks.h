#pragma once
// Sliding-window aggregation without inverses ("two stacks", Tangwongsan et al.): the window's
// elements are split into a front part, with suffix aggregates precomputed, and a back part,
// folded into one running partial. Push and pop are amortised O(1); a query combines two
// partials. Elements are identified by their position in the window (0 = oldest); the caller
// provides `partial_of(k, out)` to re-read element k when the back part is flipped to the front.
// Because every partial here is commutative, an element inserted into the back part just folds in.
// Not thread-safe: owned by one key's state.
#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/features/ops.h"
#include "sluice/features/state_codec.h"

namespace sluice::features {

// A partial kept inline when narrow (the usual case), so reading it costs no extra cache miss.
class SmallPartial {
 public:
  SmallPartial() = default;
  SmallPartial(const SmallPartial&) = delete;
  SmallPartial& operator=(const SmallPartial&) = delete;
  void resize(int n) {
    n_ = n;
    if (n > kInline) heap_ = std::make_unique<double[]>(n);
  }
  double* data() { return n_ > kInline ? heap_.get() : inline_; }
  const double* data() const { return n_ > kInline ? heap_.get() : inline_; }
  double operator[](int i) const { return data()[i]; }
  size_t size() const { return n_; }

 private:
  static constexpr int kInline = 4;
  int n_ = 0;
  double inline_[kInline];
  std::unique_ptr<double[]> heap_;
};

class TwoStacks {
 public:
  void Init(const Ops* ops) {
    ops_ = ops;
    back_.resize(ops->width());
    ops->Identity(back_.data());
  }
  int64_t size() const { return front_count_ + back_count_; }

  // out = fold of the whole window.
  void Query(double* out) const {
    const int w = ops_->width();
    if (front_count_ == 0) {
      for (int i = 0; i < w; ++i) out[i] = back_[i];
      return;
    }
    const double* s = &suffix_[(front_pos_)*w];
    for (int i = 0; i < w; ++i) out[i] = s[i];
    ops_->Combine(out, back_.data());
  }

  void Prefetch() const {
    if (front_count_ > 0) __builtin_prefetch(&suffix_[front_pos_ * ops_->width()]);
    __builtin_prefetch(back_.data());
  }

  void PushBack(const double* p) {
    ops_->Combine(back_.data(), p);
    ++back_count_;
  }

  template <typename PartialOf>
  void PopFront(PartialOf&& partial_of) {
    if (front_count_ == 0) Flip(partial_of);
    // Nothing to pop: only a restored state whose stacks hold fewer elements than its window
    // (Restore accepts at most `available`) gets here. Popping anyway made the count negative and
    // Query read before the suffixes (the checkpoint_state fuzzer's finding).
    if (front_count_ == 0) return;
    ++front_pos_;
    --front_count_;
  }

  // Element inserted at window position k (0 <= k <= size) with partial p; partial_of already
  // sees the window after the insert.
  template <typename PartialOf>
  void Insert(int64_t k, const double* p, PartialOf&& partial_of) {
    if (k >= front_count_) {
      PushBack(p);
      return;
    }
    Rebuild(size() + 1, partial_of);
  }

  // An element's own partial grew by p (commutative update in place, e.g. a bucket).
  template <typename PartialOf>
  void Update(int64_t k, const double* p, PartialOf&& partial_of) {
    if (k >= front_count_) {
      ops_->Combine(back_.data(), p);
      return;
    }
    Rebuild(size(), partial_of);
  }

  // Everything into the back part again.
  template <typename PartialOf>
  void Rebuild(int64_t count, PartialOf&& partial_of) {
    const int w = ops_->width();
    ops_->Identity(back_.data());
    thread_local std::vector<double> scratch;
    scratch.resize(w);
    for (int64_t k = 0; k < count; ++k) {
      partial_of(k, scratch.data());
      ops_->Combine(back_.data(), scratch.data());
    }
    back_count_ = static_cast<int32_t>(count);
    front_count_ = 0;
    front_pos_ = 0;
  }

  // Checkpoints keep the back partial as it is (its fold order is the order events came in) and
  // the split; the front's suffix aggregates are recomputed by FillSuffix, the code Flip uses, over
  // the same elements: they were not changed since the flip (a change to a front element
  // rebuilds), so the doubles come out the same.
  void Save(StateWriter* w) const {
    // An empty back part's partial is the identity (Init, Flip, Rebuild(0) and Clear all set
    // it), so it is not stored: an empty two-stacks is two bytes.
    w->Var(static_cast<uint32_t>(front_count_));
    w->Var(static_cast<uint32_t>(back_count_));
    if (back_count_ > 0) w->F64s(back_.data(), ops_->width());
  }
  // Into an Init'ed instance (its old contents are replaced) whose window holds `available`
  // elements.
  template <typename PartialOf>
  bool Restore(StateReader* r, int64_t available, PartialOf&& partial_of) {
    const uint64_t front = r->Var(), back = r->Var();
    if (r->failed() || front > INT32_MAX || back > INT32_MAX) return false;
    if (back > 0)
      r->F64s(back_.data(), ops_->width());
    else
      ops_->Identity(back_.data());
    if (r->failed() || static_cast<int64_t>(front + back) > available) return false;
    back_count_ = static_cast<int32_t>(back);
    FillSuffix(static_cast<int32_t>(front), partial_of);
    front_count_ = static_cast<int32_t>(front);
    front_pos_ = 0;
    return true;
  }

  void Clear() {
    ops_->Identity(back_.data());
    back_count_ = front_count_ = front_pos_ = 0;
    suffix_.clear();
  }

 private:
  template <typename PartialOf>
  void Flip(PartialOf&& partial_of) {
    const int32_t n = back_count_;
    FillSuffix(n, partial_of);
    front_count_ = n;
    front_pos_ = 0;
    back_count_ = 0;
    ops_->Identity(back_.data());
  }

  // suffix_[k] = element k ⊕ suffix_[k + 1], for the first n elements of the window.
  template <typename PartialOf>
  void FillSuffix(int32_t n, PartialOf&& partial_of) {
    const int w = ops_->width();
    suffix_.resize(n * w);
    for (int32_t k = n - 1; k >= 0; --k) {
      double* s = &suffix_[k * w];
      partial_of(k, s);
      if (k + 1 < n) ops_->Combine(s, &suffix_[(k + 1) * w]);
    }
  }

  const Ops* ops_ = nullptr;
  std::vector<double> suffix_;  // suffix_[k] = fold of front elements k..end (by flip order)
  SmallPartial back_;
  int32_t front_count_ = 0, front_pos_ = 0, back_count_ = 0;
};

}  // namespace sluice::features
