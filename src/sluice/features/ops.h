#pragma once
// The aggregation algebra. Every aggregation except count_distinct is a commutative monoid over a
// few doubles (its "partial"): lift one event, combine two partials, finish to the feature value.
// A window group concatenates the partials of all its aggregations into one row of width P, so a
// window of any shape is one fold of rows. Combining never subtracts, so results stay within
// rounding of a fresh recomputation however long a key lives.
// Immutable after construction; shared by all shards.
#include <cstdint>
#include <vector>

namespace sluice::features {

enum class OpKind : uint8_t {
  kCountAll,  // [n]
  kCountOf,   // [n] non-null values
  kSum,       // [s]
  kMean,      // [n, s]
  kVar,       // [n, mean, M2] (Chan et al. pairwise update)
  kMin,       // [v] NaN = empty
  kMax,       // [v]
  kFirst,     // [seq, v] seq = +inf empty
  kLast,      // [seq, v] seq = -inf empty
  kEwma,      // [A, B, tref] weights 2^((t_i - tref)/h); B = 0 empty
  kMaxTime,   // [t] newest event time (for time_since_last), -inf empty
};

int OpWidth(OpKind k);

// A value slot of a stored event: a double, or half of a 128-bit distinct token.
union Slot {
  double d;
  uint64_t u;
};

struct Op {
  OpKind kind;
  int slot = -1;   // value slot in the event row (-1: none)
  int offset = 0;  // into the partial
  double half_life_us = 0;
};

class Ops {
 public:
  // Returns the op's index, reusing an identical op.
  int Add(OpKind kind, int slot, double half_life_us);
  int width() const { return width_; }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }

  void Identity(double* p) const;
  // Lift one event: its time, log sequence number and value slots.
  void Lift(int64_t time_us, int64_t seq, const Slot* slots, double* p) const;
  // acc = acc ⊕ other.
  void Combine(double* acc, const double* other) const;
  // Convenience: acc = acc ⊕ lift(event).
  void Add(double* acc, int64_t time_us, int64_t seq, const Slot* slots, double* scratch) const {
    Lift(time_us, seq, slots, scratch);
    Combine(acc, scratch);
  }

 private:
  std::vector<Op> ops_;
  int width_ = 0;
};

}  // namespace sluice::features
