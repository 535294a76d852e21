// window: W — events of the key with time in (t − W, t].
#include <limits>
#include <new>

#include "sluice/features/event_store.h"
#include "sluice/features/two_stacks.h"
#include "sluice/features/window_state.h"

namespace sluice::features {
namespace {

class TimeWindow final : public WindowState {
 public:
  explicit TimeWindow(const GroupDef& g)
      : g_(g), store_(g.num_slots), sets_(MakeSets(g.distinct.size())) {
    stacks_.Init(&g.ops);
  }

  void Apply(const EventIn& e, Scratch* scratch, WindowOut* out) override {
    if (e.in_order) {
      ApplyInOrder(e, scratch, out);
    } else {
      ApplyLate(e, scratch, out);
    }
  }

  size_t EventBytes() const override { return store_.MemoryBytes(); }

  void Save(StateWriter* w, bool full) const override {
    store_.Save(w, full);
    w->Var(static_cast<uint64_t>(win_head_));
    w->SVar(cutoff_);
    stacks_.Save(w);
    SaveSets(sets_.get(), g_.distinct.size(), w);
  }

  bool Restore(StateReader* r) override {
    if (!store_.Restore(r)) return false;
    const int64_t head = static_cast<int64_t>(r->Var() & INT64_MAX);
    cutoff_ = r->SVar();
    if (r->failed() || head < 0 || head > store_.size()) return false;
    win_head_ = static_cast<int32_t>(head);
    auto partial_of = [this](int64_t k, double* p) { PartialAt(win_head_ + k, p); };
    if (!stacks_.Restore(r, store_.size() - win_head_, partial_of)) return false;
    return RestoreSets(sets_.get(), g_.distinct.size(), r);
  }

  void Mark() override { store_.Mark(); }

  void Prefetch() const override {
    store_.PrefetchRow(win_head_);
    store_.PrefetchRow(store_.size() - 1);
    stacks_.Prefetch();
  }

 private:
  void PartialAt(int64_t i, double* p) const {
    g_.ops.Lift(store_.time(i), store_.seq(i), store_.slots(i), p);
  }

  void ApplyInOrder(const EventIn& e, Scratch* s, WindowOut* out) {
    cutoff_ = e.time - g_.window_us;
    const size_t nd = g_.distinct.size();
    auto partial_of = [this](int64_t k, double* p) { PartialAt(win_head_ + k, p); };
    Token buf[kMaxDistinct];
    while (win_head_ < store_.size() && store_.time(win_head_) <= cutoff_) {
      stacks_.PopFront(partial_of);
      if (nd > 0) RemoveTokens(sets_.get(), nd, StoredTokens(g_, store_.slots(win_head_), buf));
      ++win_head_;
    }
    stacks_.Query(out->partial);
    ReportSets(sets_.get(), nd, e, out);
    store_.PushBack(e.time, e.seq, e.slots);
    stacks_.PushBack(e.lift);
    AddTokens(sets_.get(), nd, e.tokens);
    // Keep what a late event (time >= newest − lateness) could still need.
    const int64_t keep_after = e.newest - e.lateness_us - g_.window_us;
    while (win_head_ > 0 && store_.time(0) <= keep_after) {
      store_.PopFront();
      --win_head_;
    }
  }

  void ApplyLate(const EventIn& e, Scratch* s, WindowOut* out) {
    const int64_t lo = store_.UpperBound(e.time - g_.window_us);
    const int64_t hi = store_.UpperBound(e.time);
    g_.ops.Identity(out->partial);
    const size_t nd = g_.distinct.size();
    Token buf[kMaxDistinct];
    for (size_t d = 0; d < nd; ++d) s->sets[d].Clear();
    for (int64_t i = lo; i < hi; ++i) {
      PartialAt(i, s->partial.data());
      g_.ops.Combine(out->partial, s->partial.data());
      if (nd > 0) AddTokens(s->sets.data(), nd, StoredTokens(g_, store_.slots(i), buf));
    }
    ReportSets(s->sets.data(), nd, e, out);
    store_.Insert(hi, e.time, e.seq, e.slots);
    const bool in_window = e.time > cutoff_;
    if (!in_window) {
      ++win_head_;  // stored only for later late events; hi <= win_head_
      return;
    }
    auto partial_of = [this](int64_t k, double* p) { PartialAt(win_head_ + k, p); };
    stacks_.Insert(hi - win_head_, e.lift, partial_of);
    AddTokens(sets_.get(), nd, e.tokens);
  }

  const GroupDef& g_;
  EventStore store_;
  int32_t win_head_ = 0;  // store index where the in-order window starts
  int64_t cutoff_ = std::numeric_limits<int64_t>::min();  // times <= cutoff_ left the window
  TwoStacks stacks_;
  std::unique_ptr<DistinctSet[]> sets_;
};

}  // namespace

size_t TimeWindowSize() { return sizeof(TimeWindow); }

WindowState* NewTimeWindow(const GroupDef& g, void* where) { return new (where) TimeWindow(g); }

}  // namespace sluice::features
