// rows: N — the last N events of the key in log order (time plays no part, so no late path).
#include <new>

#include "sluice/features/event_store.h"
#include "sluice/features/two_stacks.h"
#include "sluice/features/window_state.h"

namespace sluice::features {
namespace {

class RowWindow final : public WindowState {
 public:
  explicit RowWindow(const GroupDef& g)
      : g_(g), store_(g.num_slots), sets_(MakeSets(g.distinct.size())) {
    stacks_.Init(&g.ops);
  }

  void Apply(const EventIn& e, Scratch* s, WindowOut* out) override {
    const size_t nd = g_.distinct.size();
    stacks_.Query(out->partial);
    ReportSets(sets_.get(), nd, e, out);
    if (g_.rows == 0) return;
    store_.PushBack(e.time, e.seq, e.slots);
    stacks_.PushBack(e.lift);
    AddTokens(sets_.get(), nd, e.tokens);
    if (store_.size() <= g_.rows) return;
    stacks_.PopFront([this](int64_t k, double* p) {
      g_.ops.Lift(store_.time(k), store_.seq(k), store_.slots(k), p);
    });
    if (nd > 0) {
      Token buf[kMaxDistinct];
      RemoveTokens(sets_.get(), nd, StoredTokens(g_, store_.slots(0), buf));
    }
    store_.PopFront();
  }

  size_t EventBytes() const override { return store_.MemoryBytes(); }

  void Save(StateWriter* w, bool full) const override {
    store_.Save(w, full);
    stacks_.Save(w);
    SaveSets(sets_.get(), g_.distinct.size(), w);
  }
  bool Restore(StateReader* r) override {
    if (!store_.Restore(r)) return false;
    auto partial_of = [this](int64_t k, double* p) {
      g_.ops.Lift(store_.time(k), store_.seq(k), store_.slots(k), p);
    };
    if (!stacks_.Restore(r, store_.size(), partial_of)) return false;
    return RestoreSets(sets_.get(), g_.distinct.size(), r);
  }

  void Mark() override { store_.Mark(); }

  void Prefetch() const override {
    store_.PrefetchEnds();
    stacks_.Prefetch();
  }

 private:
  const GroupDef& g_;
  EventStore store_;
  TwoStacks stacks_;
  std::unique_ptr<DistinctSet[]> sets_;
};

}  // namespace

size_t RowWindowSize() { return sizeof(RowWindow); }

WindowState* NewRowWindow(const GroupDef& g, void* where) { return new (where) RowWindow(g); }

size_t StateSize(const GroupDef& g) {
  switch (g.kind) {
    case GroupKind::kTime:
      return TimeWindowSize();
    case GroupKind::kUnbounded:
      return UnboundedWindowSize();
    case GroupKind::kBucket:
      return BucketWindowSize();
    case GroupKind::kRows:
      return RowWindowSize();
  }
  return 0;
}

WindowState* ConstructState(const GroupDef& g, void* where) {
  switch (g.kind) {
    case GroupKind::kTime:
      return NewTimeWindow(g, where);
    case GroupKind::kUnbounded:
      return NewUnboundedWindow(g, where);
    case GroupKind::kBucket:
      return NewBucketWindow(g, where);
    case GroupKind::kRows:
      return NewRowWindow(g, where);
  }
  return nullptr;
}

}  // namespace sluice::features
