// EventStore's checkpoint patches: random pushes, pops, late inserts and in-place changes between
// saves; each patch, applied to a copy that took the previous ones, must give the same rows, and
// a store that only took appends must write only the new rows.
#include "sluice/features/event_store.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace sluice::features {
namespace {

constexpr int kSlots = 3;

std::vector<std::vector<uint64_t>> Rows(const EventStore& s) {
  std::vector<std::vector<uint64_t>> rows;
  for (int64_t i = 0; i < s.size(); ++i) {
    std::vector<uint64_t> row = {static_cast<uint64_t>(s.time(i)), static_cast<uint64_t>(s.seq(i))};
    for (int k = 0; k < kSlots; ++k) row.push_back(s.slots(i)[k].u);
    rows.push_back(row);
  }
  return rows;
}

// Saves `from` as a patch (or in full) and applies it to `to`; true when `to` took it.
bool Apply(const EventStore& from, bool full, EventStore* to, std::string* bytes) {
  bytes->clear();
  StateWriter w(bytes);
  from.Save(&w, full);
  w.Flush();
  StateReader r(*bytes);
  return to->Restore(&r) && r.done();
}

TEST(EventStore, PatchesRebuildTheRows) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    EventStore live(kSlots), copy(kSlots);
    int64_t time = 1000, seq = 0;
    int patched = 0;  // patches that kept marked rows after popping some
    std::string bytes;
    for (int round = 0; round < 60; ++round) {
      const int ops = 1 + static_cast<int>(rng() % 12);
      for (int op = 0; op < ops; ++op) {
        Slot slots[kSlots];
        for (auto& s : slots) s.u = rng();
        const int what = static_cast<int>(rng() % 10);
        if (what < 5 || live.empty()) {
          time += static_cast<int64_t>(rng() % 3);
          live.PushBack(time, ++seq, slots);
        } else if (what < 7) {
          live.PopFront();
        } else if (what < 9) {
          const int64_t i = static_cast<int64_t>(rng() % (live.size() + 1));
          live.Insert(i, i < live.size() ? live.time(i) : time, ++seq, slots);
        } else {
          live.mutable_slots(static_cast<int64_t>(rng() % live.size()))[1].u = rng();
        }
      }
      const bool full = rng() % 8 == 0;
      ASSERT_TRUE(Apply(live, full, &copy, &bytes)) << "seed " << seed << ", round " << round;
      live.Mark();
      StateReader r(bytes);
      const uint64_t popped = r.Var(), kept = r.Var();
      patched += popped > 0 && kept > 0;
      ASSERT_EQ(Rows(copy), Rows(live)) << "seed " << seed << ", round " << round;
    }
    EXPECT_GT(patched, 0) << "seed " << seed << ": no patch popped and kept rows";
  }
}

TEST(EventStore, AnAppendWritesOnlyTheNewRow) {
  EventStore live(kSlots), copy(kSlots);
  const Slot slots[kSlots] = {};
  for (int64_t i = 0; i < 500; ++i) live.PushBack(1000 + i, i, slots);
  std::string full, patch;
  ASSERT_TRUE(Apply(live, true, &copy, &full));
  live.Mark();
  live.PopFront();
  live.PushBack(2000, 500, slots);
  ASSERT_TRUE(Apply(live, false, &copy, &patch));
  EXPECT_EQ(Rows(copy), Rows(live));
  // popped 1, kept 498, one row: its time and seq deltas and its 3 slots.
  EXPECT_LE(patch.size(), 3 + 4 + kSlots * 8u);
  EXPECT_GT(full.size(), 500 * kSlots * 8u);
}

TEST(EventStore, RefusesAPatchThatDoesNotFit) {
  EventStore live(kSlots), small(kSlots);
  const Slot slots[kSlots] = {};
  for (int64_t i = 0; i < 10; ++i) live.PushBack(i, i, slots);
  live.Mark();
  live.PopFront();
  live.PushBack(20, 20, slots);  // popped 1, kept 8: needs a store of at least 9 rows
  for (int64_t i = 0; i < 5; ++i) small.PushBack(i, i, slots);
  std::string bytes;
  EXPECT_FALSE(Apply(live, false, &small, &bytes));
}

}  // namespace
}  // namespace sluice::features
