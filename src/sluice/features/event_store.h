#pragma once
// The events a window group keeps for one key: a ring of fixed-stride rows [time, seq, slots...],
// sorted by event time (ties in log order). Appends and front pops are O(1); an out-of-order
// insert shifts the rows after it (late events land near the back, so this is short).
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
    const int32_t fit = static_cast<int32_t>(kInlineSlots / stride_);
    cap_ = fit >= 2 ? 2 : fit >= 1 ? 1 : 0;
  }
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t time(int64_t i) const { return static_cast<int64_t>(Row(i)[0].u); }
  int64_t seq(int64_t i) const { return static_cast<int64_t>(Row(i)[1].u); }
  const Slot* slots(int64_t i) const { return Row(i) + 2; }
  Slot* mutable_slots(int64_t i) { return Row(i) + 2; }

  void PushBack(int64_t time, int64_t seq, const Slot* slots) {
    Grow();
    Write(size_++, time, seq, slots);
  }
  void PopFront() {
    head_ = (head_ + 1) & (cap_ - 1);
    --size_;
  }
  // Inserts at index i (0 <= i <= size), moving later rows back by one.
  void Insert(int64_t i, int64_t time, int64_t seq, const Slot* slots) {
    Grow();
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
  // Checkpoints: the row count, then the rows oldest first (capacity and ring position are not
  // state: any layout of the same rows behaves the same). Time and seq as zigzag varint deltas
  // from the row before (mostly a byte or two), the value slots as their 8-byte words.
  void Save(StateWriter* w) const {
    const size_t slot_bytes = static_cast<size_t>(stride_ - 2) * sizeof(Slot);
    char* p = w->Extend(StateWriter::kMaxVar +
                        static_cast<size_t>(size_) * (2 * StateWriter::kMaxVar + slot_bytes));
    p = StateWriter::PutVar(p, static_cast<uint64_t>(size_));
    int64_t time = 0, seq = 0;
    for (int64_t i = 0; i < size_; ++i) {
      const Slot* r = Row(i);
      p = StateWriter::PutSVar(p, static_cast<int64_t>(r[0].u - static_cast<uint64_t>(time)));
      p = StateWriter::PutSVar(p, static_cast<int64_t>(r[1].u - static_cast<uint64_t>(seq)));
      time = static_cast<int64_t>(r[0].u);
      seq = static_cast<int64_t>(r[1].u);
      std::memcpy(p, r + 2, slot_bytes);
      p += slot_bytes;
    }
    w->Commit(p);
  }
  // Into an empty store; false when the record is malformed.
  bool Restore(StateReader* r) {
    const uint64_t n = r->VarCount(2 + (stride_ - 2) * sizeof(Slot));
    if (r->failed() || size_ != 0 || n > INT32_MAX) return false;
    Reserve(static_cast<int32_t>(n));
    uint64_t time = 0, seq = 0;
    for (uint64_t i = 0; i < n; ++i) {
      Slot* row = Row(size_++);
      time += static_cast<uint64_t>(r->SVar());
      seq += static_cast<uint64_t>(r->SVar());
      row[0].u = time;
      row[1].u = seq;
      r->Raw(row + 2, (stride_ - 2) * sizeof(Slot));
    }
    return !r->failed();
  }
  size_t MemoryBytes() const { return static_cast<size_t>(cap_) * stride_ * sizeof(Slot); }
  bool is_inline() const { return data_ == nullptr; }

 private:
  // Capacity is a power of two, so wrapping is a mask, not a division.
  Slot* Row(int64_t i) const { return base() + ((head_ + i) & (cap_ - 1)) * stride_; }
  Slot* base() const { return data_ ? data_.get() : const_cast<Slot*>(inline_); }
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
    std::unique_ptr<Slot[]> d(new Slot[static_cast<size_t>(cap) * stride_]);
    for (int64_t i = 0; i < size_; ++i)
      std::memcpy(d.get() + i * stride_, Row(i), stride_ * sizeof(Slot));
    data_ = std::move(d);
    cap_ = cap;
    head_ = 0;
  }

  static constexpr int kInlineSlots = 8;  // 64 bytes of rows kept inside the key's block
  std::unique_ptr<Slot[]> data_;
  Slot inline_[kInlineSlots];
  int32_t stride_;
  int32_t head_ = 0, size_ = 0, cap_ = 0;
};

}  // namespace sluice::features
