#pragma once
// Entity keys: the bytes of a key space's field values, hashed once (XXH3) and reused for the
// map lookup and for choosing the owning shard.
#include <absl/container/flat_hash_map.h>
#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/value.h"
#include "sluice/features/compiled.h"
#include "sluice/features/huge_pages.h"
#include "sluice/io/arena.h"

namespace sluice::features {

struct KeyRef {
  std::string_view bytes;
  uint64_t hash = 0;
  bool null = true;
};

// Which of `num_shards` shards owns a key.
inline int OwnerShard(uint64_t hash, int num_shards) {
  return static_cast<int>((hash >> 32) % static_cast<uint64_t>(num_shards));
}

// Encodes the key of `ks` for an event. A single string field is used as is (no copy); other
// keys are encoded into `arena` with type tags and lengths, so distinct tuples never collide.
KeyRef EncodeKey(const KeySpaceDef& ks, const core::Value* fields, io::StringArena* arena);

// Heterogeneous-lookup hashing: a stored std::string and a KeyRef hash the same way.
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }
  size_t operator()(const KeyRef& k) const { return k.hash; }
};
struct KeyEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  bool operator()(std::string_view a, const KeyRef& b) const { return a == b.bytes; }
  bool operator()(const KeyRef& a, std::string_view b) const { return a.bytes == b; }
};

// A large table's slot array lives in huge pages (huge_pages.h).
template <typename V>
using KeyMap = absl::flat_hash_map<std::string, V, KeyHash, KeyEq,
                                   HugePageAllocator<std::pair<const std::string, V>>>;

}  // namespace sluice::features
