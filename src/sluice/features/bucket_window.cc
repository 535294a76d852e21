// window: W, resolution: R — whole buckets floor(time / R) in (bucket(t) − W/R, bucket(t)].
// Each stored row is one bucket [id, -, partial...], so memory per key is O(W/R) whatever the
// event rate. The newest ("open") bucket is kept out of the two stacks, so adding to it is O(1).
#include <deque>
#include <limits>
#include <new>

#include "sluice/features/event_store.h"
#include "sluice/features/two_stacks.h"
#include "sluice/features/window_state.h"

namespace sluice::features {
namespace {

class BucketWindow final : public WindowState {
 public:
  explicit BucketWindow(const GroupDef& g)
      : g_(g),
        nb_(g.window_us / g.resolution_us),
        buckets_(g.ops.width()),
        sets_(MakeSets(g.distinct.size())) {
    stacks_.Init(&g.ops);
    if (!g.distinct.empty())
      tokens_ = std::make_unique<std::deque<std::vector<std::vector<Token>>>>();
  }

  void Apply(const EventIn& e, Scratch* s, WindowOut* out) override {
    const int64_t b = e.time / g_.resolution_us;
    if (e.in_order) {
      AdvanceTo(b);
      stacks_.Query(out->partial);
      if (HasOpen() && Id(Last()) == b) g_.ops.Combine(out->partial, Partial(Last()));
      ReportSets(sets_.get(), g_.distinct.size(), e, out);
      if (!HasOpen() || Id(Last()) != b) {
        buckets_.PushBack(b, 0, Identity());
      }
      g_.ops.Combine(MutablePartial(Last()), e.lift);
      AddToken(Last(), e.tokens, true);
      Evict(e.newest - e.lateness_us);
      return;
    }
    LateQuery(b, e, s, out);
    AddLate(b, e, e.lift);
  }

  size_t EventBytes() const override { return 0; }

  void Save(StateWriter* w, bool full) const override {
    buckets_.Save(w, full);
    w->Var(static_cast<uint64_t>(win_head_));
    w->SVar(cutoff_);
    stacks_.Save(w);
    SaveSets(sets_.get(), g_.distinct.size(), w);
    if (!tokens_) return;
    w->Var(tokens_->size());
    for (const auto& per_column : *tokens_) {
      for (const auto& list : per_column) {
        w->Var(list.size());
        for (const Token& t : list) {
          w->U64(t.a);
          w->U64(t.b);
        }
      }
    }
  }
  bool Restore(StateReader* r) override;
  void Mark() override { buckets_.Mark(); }
  void Prefetch() const override {
    buckets_.PrefetchRow(win_head_);
    buckets_.PrefetchRow(buckets_.size() - 1);
    stacks_.Prefetch();
  }

 private:
  int64_t Id(int64_t i) const { return buckets_.time(i); }
  double* MutablePartial(int64_t i) { return &buckets_.mutable_slots(i)->d; }
  const double* Partial(int64_t i) const { return &buckets_.slots(i)->d; }
  int64_t Last() const { return buckets_.size() - 1; }
  bool HasOpen() const { return buckets_.size() > win_head_; }
  const Slot* Identity() {
    identity_.resize(g_.ops.width());
    g_.ops.Identity(&identity_[0].d);
    return identity_.data();
  }
  auto PartialOf() {
    return [this](int64_t k, double* p) {
      const double* src = Partial(win_head_ + k);
      for (int i = 0; i < g_.ops.width(); ++i) p[i] = src[i];
    };
  }

  // Closes the open bucket when b is newer and drops buckets that left the window.
  void AdvanceTo(int64_t b) {
    if (HasOpen() && Id(Last()) < b) stacks_.PushBack(Partial(Last()));
    cutoff_ = b - nb_;
    while (win_head_ < buckets_.size() && Id(win_head_) <= cutoff_) {
      stacks_.PopFront(PartialOf());  // the open bucket (id b) is never <= cutoff_
      if (tokens_) {
        for (size_t d = 0; d < g_.distinct.size(); ++d) {
          for (const Token& t : (*tokens_)[win_head_][d]) sets_[d].Remove(t);
        }
      }
      ++win_head_;
    }
  }

  // `horizon` = newest − allowed_lateness: buckets no late event can reach go.
  void Evict(int64_t horizon) {
    const int64_t keep_after = horizon / g_.resolution_us - nb_;
    while (win_head_ > 0 && Id(0) <= keep_after) {
      buckets_.PopFront();
      if (tokens_) tokens_->pop_front();
      --win_head_;
    }
  }

  // Records e's tokens in bucket i; `in_window` buckets also count in the window's sets.
  void AddToken(int64_t i, const Token* tokens, bool in_window) {
    if (!tokens_) return;
    auto& per = (*tokens_);
    while (static_cast<int64_t>(per.size()) < buckets_.size()) per.emplace_back(g_.distinct.size());
    for (size_t d = 0; d < g_.distinct.size(); ++d) {
      const Token t = tokens[d];
      if (t.is_null()) continue;
      auto& list = per[i][d];
      bool present = false;
      for (const Token& x : list) present = present || x == t;
      if (present) continue;
      list.push_back(t);
      if (in_window) sets_[d].Add(t);
    }
  }

  void LateQuery(int64_t b, const EventIn& e, Scratch* s, WindowOut* out) {
    g_.ops.Identity(out->partial);
    for (size_t d = 0; d < g_.distinct.size(); ++d) s->sets[d].Clear();
    const int64_t lo = buckets_.UpperBound(b - nb_), hi = buckets_.UpperBound(b);
    for (int64_t i = lo; i < hi; ++i) {
      g_.ops.Combine(out->partial, Partial(i));
      if (!tokens_) continue;
      for (size_t d = 0; d < g_.distinct.size(); ++d) {
        for (const Token& t : (*tokens_)[i][d]) s->sets[d].Add(t);
      }
    }
    ReportSets(s->sets.data(), g_.distinct.size(), e, out);
  }

  void AddLate(int64_t b, const EventIn& e, const double* lift) {
    int64_t i = buckets_.UpperBound(b - 1);  // first bucket with id >= b
    const bool exists = i < buckets_.size() && Id(i) == b;
    if (!exists) {
      buckets_.Insert(i, b, 0, Identity());
      if (tokens_)
        tokens_->insert(tokens_->begin() + i, std::vector<std::vector<Token>>(g_.distinct.size()));
    }
    g_.ops.Combine(MutablePartial(i), lift);
    const bool in_window = b > cutoff_;
    if (!in_window) {
      if (!exists) ++win_head_;
      AddToken(i, e.tokens, false);
      return;
    }
    if (i != Last()) {  // the open bucket is read directly, not through the stacks
      if (exists)
        stacks_.Update(i - win_head_, lift, PartialOf());
      else
        stacks_.Insert(i - win_head_, lift, PartialOf());
    }
    AddToken(i, e.tokens, true);
  }

  bool RestoreTokens(StateReader* r);

  const GroupDef& g_;
  int64_t nb_;
  EventStore buckets_;  // rows: [bucket id, unused, partial...]
  int64_t win_head_ = 0;
  int64_t cutoff_ = std::numeric_limits<int64_t>::min();  // bucket ids <= cutoff_ left the window
  TwoStacks stacks_;                                      // the window's closed buckets
  std::unique_ptr<DistinctSet[]> sets_;
  std::unique_ptr<std::deque<std::vector<std::vector<Token>>>> tokens_;  // per bucket, per column
  std::vector<Slot> identity_;
};

bool BucketWindow::Restore(StateReader* r) {
  if (!buckets_.Restore(r)) return false;
  win_head_ = static_cast<int64_t>(r->Var() & INT64_MAX);
  cutoff_ = r->SVar();
  if (r->failed() || win_head_ < 0 || win_head_ > buckets_.size()) return false;
  if (!stacks_.Restore(r, buckets_.size() - win_head_, PartialOf())) return false;
  if (!RestoreSets(sets_.get(), g_.distinct.size(), r)) return false;
  return !tokens_ || RestoreTokens(r);
}

bool BucketWindow::RestoreTokens(StateReader* r) {
  const size_t nd = g_.distinct.size();
  // One list per bucket, in step with the buckets (AdvanceTo and Evict index them by bucket).
  const uint64_t n = r->VarCount(nd);
  if (n != static_cast<uint64_t>(buckets_.size())) r->Fail();
  tokens_->clear();
  for (uint64_t i = 0; i < n && !r->failed(); ++i) {
    auto& per_column = tokens_->emplace_back(nd);
    for (auto& list : per_column) {
      list.resize(r->VarCount(16));
      for (Token& t : list) t = Token{r->U64(), r->U64()};
    }
  }
  return !r->failed();
}

}  // namespace

size_t BucketWindowSize() { return sizeof(BucketWindow); }

WindowState* NewBucketWindow(const GroupDef& g, void* where) { return new (where) BucketWindow(g); }

}  // namespace sluice::features
