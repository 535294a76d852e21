#pragma once
// Values of count_distinct: 128-bit tokens. Strings hash with XXH3-128 (a collision among even a
// billion distinct values has probability < 1e-20); ints and doubles are encoded exactly.
#include <absl/container/flat_hash_map.h>
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "sluice/features/state_codec.h"

namespace sluice::features {

struct Token {
  uint64_t a, b;  // no initialisers: scratch arrays of tokens are not zeroed on the hot path
  bool is_null() const { return a == 0 && b == 0; }
  static Token Null() { return Token{0, 0}; }
  bool operator==(const Token& o) const { return a == o.a && b == o.b; }
  template <typename H>
  friend H AbslHashValue(H h, const Token& t) {
    return H::combine(std::move(h), t.a, t.b);
  }
};

inline Token StringToken(std::string_view s) {
  XXH128_hash_t h = XXH3_128bits(s.data(), s.size());
  Token t{h.low64, h.high64};
  if (t.is_null()) t.b = 1;  // (0,0) means null
  return t;
}
inline Token IntToken(int64_t v) { return Token{static_cast<uint64_t>(v), 2}; }
inline Token DoubleToken(double v) {
  if (v == 0) v = 0;  // -0.0 and 0.0 are one value
  uint64_t bits;
  static_assert(sizeof bits == sizeof v);
  __builtin_memcpy(&bits, &v, sizeof bits);
  return Token{bits, 3};
}

// A multiset of tokens: distinct count = size().
class DistinctSet {
 public:
  void Add(Token t) { ++counts_[t]; }
  void Remove(Token t) {
    auto it = counts_.find(t);
    if (it != counts_.end() && --it->second == 0) counts_.erase(it);
  }
  bool Contains(Token t) const { return counts_.contains(t); }
  int64_t size() const { return static_cast<int64_t>(counts_.size()); }
  void Clear() { counts_.clear(); }

  // Checkpoints keep the multiplicities: a value leaves the set only when its last event does.
  void Save(StateWriter* w) const {
    char* p = w->Extend(StateWriter::kMaxVar + counts_.size() * (16 + StateWriter::kMaxVar));
    p = StateWriter::PutVar(p, counts_.size());  // an empty set is one byte
    for (const auto& [t, n] : counts_) {
      std::memcpy(p, &t.a, 8);
      std::memcpy(p + 8, &t.b, 8);
      p = StateWriter::PutVar(p + 16, static_cast<uint32_t>(n));
    }
    w->Commit(p);
  }
  bool Restore(StateReader* r) {
    const uint64_t n = r->VarCount(17);
    counts_.clear();
    counts_.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      Token t{r->U64(), r->U64()};
      const uint64_t c64 = r->Var();
      const int32_t c = static_cast<int32_t>(c64);
      if (t.is_null() || c64 == 0 || c64 > INT32_MAX) r->Fail();
      if (r->failed()) return false;
      counts_[t] += c;
    }
    return !r->failed();
  }

 private:
  absl::flat_hash_map<Token, int32_t> counts_;
};

// The distinct sets of a window, one per count_distinct column; null when there are none, so a
// window without count_distinct pays one pointer.
inline std::unique_ptr<DistinctSet[]> MakeSets(size_t n) {
  return n == 0 ? nullptr : std::make_unique<DistinctSet[]>(n);
}

inline void SaveSets(const DistinctSet* sets, size_t n, StateWriter* w) {
  for (size_t d = 0; d < n; ++d) sets[d].Save(w);
}
inline bool RestoreSets(DistinctSet* sets, size_t n, StateReader* r) {
  for (size_t d = 0; d < n; ++d) {
    if (!sets[d].Restore(r)) return false;
  }
  return true;
}

}  // namespace sluice::features
