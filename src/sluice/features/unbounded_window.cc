// No window: events of the key with time <= t. In order, that is a running total. Events newer
// than (newest − allowed_lateness) are also kept one by one, so a late event can leave out the
// events newer than itself; older ones are folded into `base_`.
#include <new>

#include "sluice/features/event_store.h"
#include "sluice/features/two_stacks.h"
#include "sluice/features/window_state.h"

namespace sluice::features {
namespace {

class UnboundedWindow final : public WindowState {
 public:
  explicit UnboundedWindow(const GroupDef& g)
      : g_(g), store_(g.num_slots), total_sets_(MakeSets(g.distinct.size())) {
    total_.resize(g.ops.width());
    base_.resize(g.ops.width());
    g.ops.Identity(total_.data());
    g.ops.Identity(base_.data());
  }

  void Apply(const EventIn& e, Scratch* s, WindowOut* out) override {
    const size_t nd = g_.distinct.size();
    if (e.in_order) {
      for (int i = 0; i < g_.ops.width(); ++i) out->partial[i] = total_.data()[i];
      ReportSets(total_sets_.get(), nd, e, out);
    } else {
      LateQuery(e, s, out);
    }
    g_.ops.Combine(total_.data(), e.lift);
    AddTokens(total_sets_.get(), nd, e.tokens);
    if (e.lateness_us == 0) return;  // nothing can arrive late: no need to keep events
    store_.Insert(store_.UpperBound(e.time), e.time, e.seq, e.slots);
    const int64_t fold_upto = e.newest - e.lateness_us;
    while (!store_.empty() && store_.time(0) <= fold_upto) {
      g_.ops.Add(base_.data(), store_.time(0), store_.seq(0), store_.slots(0), s->partial.data());
      if (nd > 0) {
        if (!base_sets_) base_sets_ = MakeSets(nd);
        Token buf[kMaxDistinct];
        AddTokens(base_sets_.get(), nd, StoredTokens(g_, store_.slots(0), buf));
      }
      store_.PopFront();
    }
  }

  void Prefetch() const override { __builtin_prefetch(total_.data()); }

  void Save(StateWriter* w, bool full) const override {
    const size_t nd = g_.distinct.size();
    store_.Save(w, full);
    w->F64s(total_.data(), g_.ops.width());
    w->F64s(base_.data(), g_.ops.width());
    SaveSets(total_sets_.get(), nd, w);
    w->U8(base_sets_ ? 1 : 0);
    if (base_sets_) SaveSets(base_sets_.get(), nd, w);
  }
  bool Restore(StateReader* r) override {
    const size_t nd = g_.distinct.size();
    if (!store_.Restore(r)) return false;
    r->F64s(total_.data(), g_.ops.width());
    r->F64s(base_.data(), g_.ops.width());
    if (!RestoreSets(total_sets_.get(), nd, r)) return false;
    const uint8_t has_base = r->U8();
    if (has_base > 1 || (has_base && nd == 0)) r->Fail();
    if (r->failed()) return false;
    base_sets_.reset();
    if (!has_base) return true;
    base_sets_ = MakeSets(nd);
    return RestoreSets(base_sets_.get(), nd, r);
  }
  size_t EventBytes() const override { return store_.MemoryBytes(); }
  void Mark() override { store_.Mark(); }

 private:
  // base ∪ the kept events with time <= t.
  void LateQuery(const EventIn& e, Scratch* s, WindowOut* out) {
    const size_t nd = g_.distinct.size();
    for (int i = 0; i < g_.ops.width(); ++i) out->partial[i] = base_.data()[i];
    const int64_t hi = store_.UpperBound(e.time);
    for (size_t d = 0; d < nd; ++d) s->sets[d].Clear();
    for (int64_t i = 0; i < hi; ++i) {
      g_.ops.Add(out->partial, store_.time(i), store_.seq(i), store_.slots(i), s->partial.data());
      for (size_t d = 0; d < nd; ++d) {
        Token t = ColumnToken(g_.distinct[d], store_.slots(i));
        if (!t.is_null() && !InBase(d, t)) s->sets[d].Add(t);
      }
    }
    for (size_t d = 0; d < nd; ++d) {
      out->distinct_count[d] = (base_sets_ ? base_sets_[d].size() : 0) + s->sets[d].size();
      const Token t = e.tokens[d];
      out->distinct_has[d] = !t.is_null() && (InBase(d, t) || s->sets[d].Contains(t));
    }
  }
  bool InBase(size_t d, Token t) const { return base_sets_ && base_sets_[d].Contains(t); }

  const GroupDef& g_;
  EventStore store_;
  SmallPartial total_, base_;
  std::unique_ptr<DistinctSet[]> total_sets_, base_sets_;  // base_sets_ made when first needed
};

}  // namespace

size_t UnboundedWindowSize() { return sizeof(UnboundedWindow); }

WindowState* NewUnboundedWindow(const GroupDef& g, void* where) {
  return new (where) UnboundedWindow(g);
}

}  // namespace sluice::features
