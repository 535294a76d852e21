#pragma once
// The state one key keeps for one window group, and how an event moves it. Every kind answers
// the same question for an admitted event e: the fold of its window *without* e (the shard adds
// e itself for features that include it), plus, per count_distinct column, the distinct count
// without e and whether e's value is already among them.
//   in-order events (time >= the key's newest) take an incremental path that never rescans;
//   late events (within allowed_lateness) rescan the stored events of their window.
// Not thread-safe: owned by one key's state, which one shard owns.
#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/features/compiled.h"
#include "sluice/features/state_codec.h"
#include "sluice/features/token.h"

namespace sluice::features {

struct EventIn {
  int64_t time;         // µs
  int64_t seq;          // position in the log
  const Slot* slots;    // the group's value slots for this event
  const Token* tokens;  // per distinct column, e's token (null token when e has no value)
  const double* lift;   // e's own partial (Ops::Lift), computed once by the shard
  bool in_order;        // time >= the key's newest before this event
  int64_t newest;       // the key's newest time after this event
  int64_t lateness_us;  // allowed_lateness (passed, not stored: it is the same for every key)
};

struct WindowOut {
  double* partial;          // width = group ops width
  int64_t* distinct_count;  // per distinct column
  bool* distinct_has;       // per distinct column: e's token already in the window
};

// Per-thread scratch for late-event rescans.
struct Scratch {
  std::vector<double> partial;
  std::vector<DistinctSet> sets;
};

class WindowState {
 public:
  virtual ~WindowState() = default;
  virtual void Apply(const EventIn& e, Scratch* scratch, WindowOut* out) = 0;
  // Hints the memory the next Apply will touch (ring ends, suffix aggregates) into cache.
  virtual void Prefetch() const {}
  // Bytes of raw events the window keeps (time windows, rows, lateness), for memory accounting.
  virtual size_t EventBytes() const = 0;
  // Checkpoints (checkpoint.h): every field a later Apply reads, in a form that restores to the
  // same later results bit for bit. The stored events are written as a patch over those of the
  // last save (EventStore::Save): `full` writes them all. Restore applies a save to this state,
  // which must be as it was at that save's previous save (a fresh state for a full one), and
  // returns false when the bytes are malformed or do not fit (the state is then to be
  // discarded); it marks the state, as Mark does after a save.
  virtual void Save(StateWriter* w, bool full) const = 0;
  virtual bool Restore(StateReader* r) = 0;
  virtual void Mark() = 0;
};

// All group states of a key live in one allocation (see Shard), so a state is constructed in
// place: StateSize bytes at `where`, suitably aligned. Destroy with ~WindowState().
size_t StateSize(const GroupDef& g);
WindowState* ConstructState(const GroupDef& g, void* where);

// Per kind, used by the two functions above.
size_t TimeWindowSize();
WindowState* NewTimeWindow(const GroupDef& g, void* where);
size_t UnboundedWindowSize();
WindowState* NewUnboundedWindow(const GroupDef& g, void* where);
size_t BucketWindowSize();
WindowState* NewBucketWindow(const GroupDef& g, void* where);
size_t RowWindowSize();
WindowState* NewRowWindow(const GroupDef& g, void* where);

// At most this many count_distinct columns per window group (checked by Compile).
inline constexpr int kMaxDistinct = 16;

// Distinct-set bookkeeping every window kind shares: `sets` holds one multiset per count_distinct
// column (n of them); `tokens` are one event's values in those columns (null tokens are skipped).
inline void AddTokens(DistinctSet* sets, size_t n, const Token* tokens) {
  for (size_t d = 0; d < n; ++d) {
    if (!tokens[d].is_null()) sets[d].Add(tokens[d]);
  }
}
inline void RemoveTokens(DistinctSet* sets, size_t n, const Token* tokens) {
  for (size_t d = 0; d < n; ++d) {
    if (!tokens[d].is_null()) sets[d].Remove(tokens[d]);
  }
}
// The distinct count without e, and whether e's value is already among them, per column.
inline void ReportSets(const DistinctSet* sets, size_t n, const EventIn& e, WindowOut* out) {
  for (size_t d = 0; d < n; ++d) {
    out->distinct_count[d] = sets[d].size();
    out->distinct_has[d] = !e.tokens[d].is_null() && sets[d].Contains(e.tokens[d]);
  }
}

// The distinct token a stored event holds in column c.
inline Token ColumnToken(const ColumnDef& c, const Slot* slots) {
  if (c.kind == ColumnDef::Kind::kToken) return Token{slots[c.slot].u, slots[c.slot + 1].u};
  const double d = slots[c.slot].d;
  return d != d ? Token{} : DoubleToken(d);
}

// A stored event's tokens in every count_distinct column of g, written to buf.
inline const Token* StoredTokens(const GroupDef& g, const Slot* slots, Token* buf) {
  for (size_t d = 0; d < g.distinct.size(); ++d) buf[d] = ColumnToken(g.distinct[d], slots);
  return buf;
}

}  // namespace sluice::features
