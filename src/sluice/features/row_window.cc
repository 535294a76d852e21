// rows: N — the last N events of the key in log order (time plays no part, so no late path).
#include "sluice/features/event_store.h"
#include "sluice/features/two_stacks.h"
#include "sluice/features/window_state.h"

namespace sluice::features {
namespace {

class RowWindow final : public WindowState {
 public:
  explicit RowWindow(const GroupDef& g) : g_(g), store_(g.num_slots), sets_(g.distinct.size()) {
    stacks_.Init(&g.ops);
  }

  void Apply(const EventIn& e, Scratch* s, WindowOut* out) override {
    stacks_.Query(out->partial);
    for (size_t d = 0; d < sets_.size(); ++d) {
      out->distinct_count[d] = sets_[d].size();
      out->distinct_has[d] = !e.tokens[d].is_null() && sets_[d].Contains(e.tokens[d]);
    }
    if (g_.rows == 0) return;
    store_.PushBack(e.time, e.seq, e.slots);
    g_.ops.Lift(e.time, e.seq, e.slots, s->partial.data());
    stacks_.PushBack(s->partial.data());
    for (size_t d = 0; d < sets_.size(); ++d) {
      if (!e.tokens[d].is_null()) sets_[d].Add(e.tokens[d]);
    }
    if (store_.size() <= g_.rows) return;
    stacks_.PopFront([this](int64_t k, double* p) {
      g_.ops.Lift(store_.time(k), store_.seq(k), store_.slots(k), p);
    });
    for (size_t d = 0; d < sets_.size(); ++d) {
      Token t = ColumnToken(g_.distinct[d], store_.slots(0));
      if (!t.is_null()) sets_[d].Remove(t);
    }
    store_.PopFront();
  }

  size_t MemoryBytes() const override { return sizeof(*this) + store_.MemoryBytes(); }

 private:
  const GroupDef& g_;
  EventStore store_;
  TwoStacks stacks_;
  std::vector<DistinctSet> sets_;
};

}  // namespace

std::unique_ptr<WindowState> MakeRowWindow(const GroupDef& g) { return std::make_unique<RowWindow>(g); }

std::unique_ptr<WindowState> MakeWindowState(const GroupDef& g, int64_t lateness_us) {
  switch (g.kind) {
    case GroupKind::kTime: return MakeTimeWindow(g, lateness_us);
    case GroupKind::kUnbounded: return MakeUnboundedWindow(g, lateness_us);
    case GroupKind::kBucket: return MakeBucketWindow(g, lateness_us);
    case GroupKind::kRows: return MakeRowWindow(g);
  }
  return nullptr;
}

}  // namespace sluice::features
