#pragma once
// Restored key states not decoded yet (lazy restore, docs/checkpoints.md). A restore reads every
// key's entry from the checkpoint; decoding each into a live state up front would allocate and
// first touch ~1 KB per key before the first event (the restore's largest cost,
// docs/benchmarks.md). Instead a shard keeps each entry's bytes here, as the checkpoint held them
// (a later delta's entry for the key chained after them), and decodes a key when it is first
// needed: its first event, or a save that cannot copy the bytes; a sweep that finds it expired
// drops it undecoded. Flink's RocksDB state backend works the same way: a restored key's state is
// read when it is first accessed.
//
// Entries are copied back to back into blocks of huge pages (huge_pages.h), each block counting
// its live entries and unmapped when the last one is taken; one table per key space maps a key to
// its entry (8 bytes a slot: the entry's address, whose bytes hold the key). Not thread-safe: one
// per shard, used by the shard's thread.
#include <absl/container/flat_hash_set.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sluice/features/huge_pages.h"
#include "sluice/features/keys.h"

namespace sluice::features {

class PendingStates {
 public:
  // A key's entries, oldest first: its state is the first decoded over a fresh state, then each
  // later one decoded over that as a patch (a delta's entries patch the state before them).
  struct Entry {
    std::string_view key;
    // The value of a key with one entry, else its latest (whose header holds the newest time).
    std::string_view value;
    bool patch;  // the first entry is a delta's (a patch over a fresh state), or there are several
    const char* blob;
    // Calls use(value) on each entry's value, oldest first; stops at the first false. (Recursive:
    // a chain is at most kMaxChain + 1 long.)
    template <typename Use>
    bool ForEachValue(Use&& use) const {
      return Visit(blob, use);
    }

   private:
    template <typename Use>
    static bool Visit(const char* b, Use& use) {
      const char* prev = Prev(b);
      return (!prev || Visit(prev, use)) && use(Read(b).value);
    }
  };

  // Values this long or longer are not kept (the entry's length field holds 31 bits).
  static constexpr size_t kMaxValue = size_t{1} << 31;

  explicit PendingStates(size_t key_spaces);
  ~PendingStates();
  PendingStates(const PendingStates&) = delete;
  PendingStates& operator=(const PendingStates&) = delete;

  // Blocks from `pages` while set (a restore: engine::RestoreLatest), else mapped here.
  void set_pages(PrefaultedHugePages* pages) { pages_ = pages; }
  size_t size(int ks) const { return sets_[ks].size(); }
  void Reserve(int ks, size_t n) { sets_[ks].reserve(n); }
  // Keeps a copy of a key's entry, after the entries kept for it (then it is a patch); returns
  // how many the key has now, counted up to kMaxChain + 1. A key changed in every delta of a long
  // chain would otherwise keep one entry per delta: the shard decodes it beyond kMaxChain.
  static constexpr size_t kMaxChain = 16;
  size_t Add(int ks, const KeyRef& key, std::string_view value, bool patch);
  // Removes the key's entry, calling use(Entry) first (its bytes are freed afterwards); false
  // when the key is not held.
  template <typename Use>
  bool Take(int ks, const KeyRef& key, Use&& use) {
    if (count_ == 0) return false;
    auto it = sets_[ks].find(key);
    if (it == sets_[ks].end()) return false;
    const char* blob = it->blob;
    sets_[ks].erase(it);
    --count_;
    use(Read(blob));
    ReleaseChain(blob);
    return true;
  }
  bool Erase(int ks, const KeyRef& key) {
    return Take(ks, key, [](const Entry&) {});
  }
  // Entries [lo, hi) of a key space's table order.
  template <typename Visit>
  void ForRange(int ks, size_t lo, size_t hi, Visit&& visit) const {
    size_t i = 0;
    for (auto it = sets_[ks].begin(); i < hi; ++it, ++i) {
      if (i >= lo) visit(Read(it->blob));
    }
  }
  // Removes every entry of a key space for which drop(Entry) is true.
  template <typename Drop>
  void EraseIf(int ks, Drop&& drop) {
    absl::erase_if(sets_[ks], [&](const Slot& slot) {
      if (!drop(Read(slot.blob))) return false;
      ReleaseChain(slot.blob);
      --count_;
      return true;
    });
  }
  // Takes every entry of a key space, in table order, calling use(Entry) on each.
  template <typename Use>
  void TakeAll(int ks, Use&& use) {
    for (const Slot& slot : sets_[ks]) use(Read(slot.blob));
    for (const Slot& slot : sets_[ks]) ReleaseChain(slot.blob);
    count_ -= sets_[ks].size();
    sets_[ks].clear();
  }

 private:
  // An entry: the key's previous entry (or null), u32 key length, u32 value length (top bit:
  // patch), key bytes, value bytes; entries start at multiples of 8 bytes. A block starts with
  // its header. The table holds each key's latest entry.
  struct Block {
    size_t bytes;  // as mapped
    size_t live;   // entries not yet taken
  };
  static Entry Read(const char* blob);
  static const char* Prev(const char* blob);
  static std::string_view KeyOf(const char* blob);
  void Release(const char* blob);
  void ReleaseChain(const char* blob);
  // A table slot: the key's latest entry. Its key bytes are the slot's key, the same in every
  // entry of the key, so a later entry replaces the slot's pointer in place.
  struct Slot {
    mutable const char* blob;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(const Slot& s) const {
      const std::string_view k = KeyOf(s.blob);
      return XXH3_64bits(k.data(), k.size());
    }
    size_t operator()(const KeyRef& k) const { return k.hash; }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(const Slot& a, const Slot& b) const { return KeyOf(a.blob) == KeyOf(b.blob); }
    bool operator()(const Slot& a, const KeyRef& b) const { return KeyOf(a.blob) == b.bytes; }
    bool operator()(const KeyRef& a, const Slot& b) const { return a.bytes == KeyOf(b.blob); }
  };
  using Set = absl::flat_hash_set<Slot, Hash, Eq, HugePageAllocator<Slot>>;

  std::vector<Set> sets_;  // per key space
  size_t count_ = 0;
  PrefaultedHugePages* pages_ = nullptr;
  Block* block_ = nullptr;  // the block entries are added to
  size_t used_ = 0;         // bytes of it in use
};

}  // namespace sluice::features
