// No window: events of the key with time <= t. In order, that is a running total. Events newer
// than (newest − allowed_lateness) are also kept one by one, so a late event can leave out the
// events newer than itself; older ones are folded into `base_`.
#include <new>

#include "sluice/features/event_store.h"
#include "sluice/features/window_state.h"

namespace sluice::features {
namespace {

class UnboundedWindow final : public WindowState {
 public:
  UnboundedWindow(const GroupDef& g, int64_t lateness_us)
      : g_(g),
        lateness_(lateness_us),
        store_(g.num_slots),
        total_(g.ops.width()),
        base_(g.ops.width()),
        total_sets_(g.distinct.size()),
        base_sets_(lateness_us > 0 ? g.distinct.size() : 0) {
    g.ops.Identity(total_.data());
    g.ops.Identity(base_.data());
  }

  void Apply(const EventIn& e, Scratch* s, WindowOut* out) override {
    const int w = g_.ops.width();
    if (e.in_order) {
      for (int i = 0; i < w; ++i) out->partial[i] = total_[i];
      for (size_t d = 0; d < total_sets_.size(); ++d) {
        out->distinct_count[d] = total_sets_[d].size();
        out->distinct_has[d] = !e.tokens[d].is_null() && total_sets_[d].Contains(e.tokens[d]);
      }
    } else {
      LateQuery(e, s, out);
    }
    g_.ops.Combine(total_.data(), e.lift);
    for (size_t d = 0; d < total_sets_.size(); ++d) {
      if (!e.tokens[d].is_null()) total_sets_[d].Add(e.tokens[d]);
    }
    if (lateness_ == 0) return;  // nothing can arrive late: no need to keep events
    store_.Insert(store_.UpperBound(e.time), e.time, e.seq, e.slots);
    const int64_t fold_upto = e.newest - lateness_;
    while (!store_.empty() && store_.time(0) <= fold_upto) {
      g_.ops.Add(base_.data(), store_.time(0), store_.seq(0), store_.slots(0), s->partial.data());
      for (size_t d = 0; d < base_sets_.size(); ++d) {
        Token t = ColumnToken(g_.distinct[d], store_.slots(0));
        if (!t.is_null()) base_sets_[d].Add(t);
      }
      store_.PopFront();
    }
  }

  void Prefetch() const override { __builtin_prefetch(total_.data()); }

  size_t EventBytes() const override { return store_.MemoryBytes(); }
  size_t MemoryBytes() const override {
    return sizeof(*this) + store_.MemoryBytes() + 2 * total_.size() * 8;
  }

 private:
  // base ∪ the kept events with time <= t.
  void LateQuery(const EventIn& e, Scratch* s, WindowOut* out) {
    for (int i = 0; i < g_.ops.width(); ++i) out->partial[i] = base_[i];
    const int64_t hi = store_.UpperBound(e.time);
    for (auto& set : s->sets) set.Clear();
    for (int64_t i = 0; i < hi; ++i) {
      g_.ops.Add(out->partial, store_.time(i), store_.seq(i), store_.slots(i), s->partial.data());
      for (size_t d = 0; d < base_sets_.size(); ++d) {
        Token t = ColumnToken(g_.distinct[d], store_.slots(i));
        if (!t.is_null() && !base_sets_[d].Contains(t)) s->sets[d].Add(t);
      }
    }
    for (size_t d = 0; d < base_sets_.size(); ++d) {
      out->distinct_count[d] = base_sets_[d].size() + s->sets[d].size();
      const Token t = e.tokens[d];
      out->distinct_has[d] = !t.is_null() && (base_sets_[d].Contains(t) || s->sets[d].Contains(t));
    }
  }

  const GroupDef& g_;
  int64_t lateness_;
  EventStore store_;
  std::vector<double> total_, base_;
  std::vector<DistinctSet> total_sets_, base_sets_;
};

}  // namespace

size_t UnboundedWindowSize() { return sizeof(UnboundedWindow); }

WindowState* NewUnboundedWindow(const GroupDef& g, int64_t lateness_us, void* where) {
  return new (where) UnboundedWindow(g, lateness_us);
}

}  // namespace sluice::features
