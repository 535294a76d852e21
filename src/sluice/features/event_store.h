#pragma once
// The events a window group keeps for one key: a ring of fixed-stride rows [time, seq, slots...],
// sorted by event time (ties in log order). Appends and front pops are O(1); an out-of-order
// insert shifts the rows after it (late events land near the back, so this is short).
// Checkpoints write a store as a patch over the rows it held at its last Mark (the last save):
// the rows popped from the front since, the rows still as they were, then the rest, so a key
// that took one event writes one row, not its whole window.
// Not thread-safe: owned by one key's state.
#include <cstdint>
#include <cstring>
#include <memory>

#include "sluice/features/ops.h"
#include "sluice/features/state_codec.h"

namespace sluice::features {

class EventStore {
 public:
  explicit EventStore(int num_slots) : stride_(2 + num_slots) {
    // Keys seen once or twice (most keys of a composite key space) never allocate a ring.
    cap_ = InlineCapacity();
  }
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;
  ~EventStore() {
    if (on_heap()) delete[] heap_;
  }

  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t time(int64_t i) const { return static_cast<int64_t>(Row(i)[0].u); }
  int64_t seq(int64_t i) const { return static_cast<int64_t>(Row(i)[1].u); }
  const Slot* slots(int64_t i) const { return Row(i) + 2; }
  // A row changed in place: it is written again by the next patch.
  Slot* mutable_slots(int64_t i) {
    Touch(i);
    return Row(i) + 2;
  }

  void PushBack(int64_t time, int64_t seq, const Slot* slots) {
    Grow();
    Write(size_++, time, seq, slots);
  }
  void PopFront() {
    head_ = (head_ + 1) & (cap_ - 1);
    --size_;
    ++popped_;
    if (kept_ > 0) --kept_;
  }
  // Inserts at index i (0 <= i <= size), moving later rows back by one.
  void Insert(int64_t i, int64_t time, int64_t seq, const Slot* slots) {
    Grow();
    Touch(i);
    for (int64_t j = size_; j > i; --j) std::memcpy(Row(j), Row(j - 1), stride_ * sizeof(Slot));
    ++size_;
    Write(i, time, seq, slots);
  }
  // First index whose time is > t (binary search).
  int64_t UpperBound(int64_t t) const {
    int64_t lo = 0, hi = size_;
    while (lo < hi) {
      int64_t mid = (lo + hi) / 2;
      if (time(mid) <= t)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }
  void PrefetchEnds() const {
    if (size_ == 0) return;
    __builtin_prefetch(Row(0));
    __builtin_prefetch(Row(size_ - 1));
  }
  void PrefetchRow(int64_t i) const {
    if (i < size_) __builtin_prefetch(Row(i));
  }
  // Checkpoints. A patch: the rows popped from the front since the last Mark, then how many of
  // the marked rows that follow are unchanged (kept), then the rows after them: their count and
  // the rows in order (capacity and ring position are not state: any layout of the same rows
  // behaves the same). Time and seq as zigzag varint deltas from the row before (mostly a byte
  // or two; the first from the last kept row, or 0), the value slots as their 8-byte words.
  // `full` writes every row (popped 0, kept 0): what a store restored into an empty one needs.
  // Pops only count while kept > 0: once every marked row is rewritten, the pops do not matter.
  void Save(StateWriter* w, bool full) const {
    const int64_t kept = full ? 0 : kept_;
    const int64_t popped = kept > 0 ? popped_ : 0;
    const size_t slot_bytes = static_cast<size_t>(stride_ - 2) * sizeof(Slot);
    char* p = w->Extend(3 * StateWriter::kMaxVar + static_cast<size_t>(size_ - kept) *
                                                       (2 * StateWriter::kMaxVar + slot_bytes));
    p = StateWriter::PutVar(p, static_cast<uint64_t>(popped));
    p = StateWriter::PutVar(p, static_cast<uint64_t>(kept));
    p = StateWriter::PutVar(p, static_cast<uint64_t>(size_ - kept));
    uint64_t time = kept > 0 ? Row(kept - 1)[0].u : 0, seq = kept > 0 ? Row(kept - 1)[1].u : 0;
    for (int64_t i = kept; i < size_; ++i) {
      const Slot* r = Row(i);
      p = StateWriter::PutSVar(p, static_cast<int64_t>(r[0].u - time));
      p = StateWriter::PutSVar(p, static_cast<int64_t>(r[1].u - seq));
      time = r[0].u;
      seq = r[1].u;
      std::memcpy(p, r + 2, slot_bytes);
      p += slot_bytes;
    }
    w->Commit(p);
  }
  // Applies a patch written by Save to this store, which must hold the rows of the store's last
  // save (none for a full one); false when the record is malformed or does not fit. Marks.
  bool Restore(StateReader* r) {
    const uint64_t popped = r->Var(), kept = r->Var();
    if (r->failed() || popped > static_cast<uint64_t>(size_) ||
        kept > static_cast<uint64_t>(size_) - popped)
      return false;
    for (uint64_t i = 0; i < popped; ++i) PopFront();
    size_ = static_cast<int32_t>(kept);
    const uint64_t n = r->VarCount(2 + (stride_ - 2) * sizeof(Slot));
    if (r->failed() || n > static_cast<uint64_t>(INT32_MAX) - kept) return false;
    Reserve(static_cast<int32_t>(kept + n));
    uint64_t time = kept > 0 ? Row(kept - 1)[0].u : 0, seq = kept > 0 ? Row(kept - 1)[1].u : 0;
    for (uint64_t i = 0; i < n; ++i) {
      Slot* row = Row(size_++);
      time += static_cast<uint64_t>(r->SVar());
      seq += static_cast<uint64_t>(r->SVar());
      row[0].u = time;
      row[1].u = seq;
      r->Raw(row + 2, (stride_ - 2) * sizeof(Slot));
    }
    Mark();
    return !r->failed();
  }
  // The rows as they are now are what the checkpoint holds: later patches are relative to them.
  void Mark() {
    popped_ = 0;
    kept_ = size_;
  }
  size_t MemoryBytes() const { return static_cast<size_t>(cap_) * stride_ * sizeof(Slot); }
  bool is_inline() const { return !on_heap(); }

 private:
  // Capacity is a power of two, so wrapping is a mask, not a division.
  Slot* Row(int64_t i) const { return base() + ((head_ + i) & (cap_ - 1)) * stride_; }
  // Rows live inline until they outgrow it; from then on the same bytes hold the heap pointer.
  // Two rows if they fit, else one, else none (compares, not a division: base() is hot).
  int32_t InlineCapacity() const {
    return stride_ <= kInlineSlots / 2 ? 2 : stride_ <= kInlineSlots ? 1 : 0;
  }
  bool on_heap() const { return cap_ > InlineCapacity(); }
  Slot* base() const { return on_heap() ? heap_ : const_cast<Slot*>(inline_); }
  // Row i (and every row after it) differs from the marked rows.
  void Touch(int64_t i) {
    if (i < kept_) kept_ = static_cast<int32_t>(i);
  }
  void Write(int64_t i, int64_t time, int64_t seq, const Slot* slots) {
    Slot* r = Row(i);
    r[0].u = static_cast<uint64_t>(time);
    r[1].u = static_cast<uint64_t>(seq);
    std::memcpy(r + 2, slots, (stride_ - 2) * sizeof(Slot));
  }
  void Grow() {
    if (size_ < cap_) return;
    Reserve(cap_ == 0 ? 2 : cap_ * 2);
  }
  // Capacity for at least n rows (a power of two), keeping the rows.
  void Reserve(int32_t n) {
    if (n <= cap_) return;
    int32_t cap = cap_ == 0 ? 2 : cap_;
    while (cap < n) cap *= 2;
    Slot* d = new Slot[static_cast<size_t>(cap) * stride_];
    for (int64_t i = 0; i < size_; ++i) std::memcpy(d + i * stride_, Row(i), stride_ * sizeof(Slot));
    if (on_heap()) delete[] heap_;
    heap_ = d;
    cap_ = cap;
    head_ = 0;
  }

  static constexpr int kInlineSlots = 8;  // 64 bytes of rows kept inside the key's block
  union {
    Slot inline_[kInlineSlots];
    Slot* heap_;
  };
  int32_t stride_;
  int32_t head_ = 0, size_ = 0, cap_ = 0;
  // Since the last Mark: rows popped from the front, and rows [0, kept_) are the marked rows
  // that followed them, unchanged.
  int32_t popped_ = 0, kept_ = 0;
};

}  // namespace sluice::features
