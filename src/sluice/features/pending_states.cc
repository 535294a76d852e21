#include "sluice/features/pending_states.h"

#include <cstring>
#include <new>

namespace sluice::features {

namespace {

constexpr size_t kEntryHeader = 16;
constexpr uint32_t kPatchBit = uint32_t{1} << 31;

constexpr size_t Round8(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

PendingStates::PendingStates(size_t key_spaces) : sets_(key_spaces) {}

PendingStates::~PendingStates() {
  for (Set& set : sets_) {
    for (const Slot& slot : set) ReleaseChain(slot.blob);
    set.clear();
  }
  if (block_) UnmapHuge(block_, block_->bytes);
}

const char* PendingStates::Prev(const char* blob) {
  const char* prev;
  std::memcpy(&prev, blob, sizeof prev);
  return prev;
}

std::string_view PendingStates::KeyOf(const char* blob) {
  uint32_t k;
  std::memcpy(&k, blob + 8, 4);
  return {blob + kEntryHeader, k};
}

PendingStates::Entry PendingStates::Read(const char* blob) {
  uint32_t k, v;
  std::memcpy(&k, blob + 8, 4);
  std::memcpy(&v, blob + 12, 4);
  const char* key = blob + kEntryHeader;
  const bool patch = (v & kPatchBit) != 0 || Prev(blob) != nullptr;
  return {{key, k}, {key + k, v & ~kPatchBit}, patch, blob};
}

size_t PendingStates::Add(int ks, const KeyRef& key, std::string_view value, bool patch) {
  const size_t need = Round8(kEntryHeader + key.bytes.size() + value.size());
  constexpr size_t kFirst = Round8(sizeof(Block));
  if (!block_ || used_ + need > block_->bytes) {
    const size_t bytes = (kFirst + need + kHugePage - 1) / kHugePage * kHugePage;
    void* mem = pages_ && bytes == kHugePage ? pages_->Take() : MapHuge(bytes);
    if (!mem) throw std::bad_alloc();
    Block* old = block_;
    block_ = new (mem) Block{bytes, 0};
    used_ = kFirst;
    if (old && old->live == 0) UnmapHuge(old, old->bytes);
  }
  char* blob = reinterpret_cast<char*>(block_) + used_;
  used_ += need;
  ++block_->live;
  const char* prev = nullptr;
  const uint32_t k = static_cast<uint32_t>(key.bytes.size());
  const uint32_t v = static_cast<uint32_t>(value.size()) | (patch ? kPatchBit : 0);
  std::memcpy(blob + 8, &k, 4);
  std::memcpy(blob + 12, &v, 4);
  std::memcpy(blob + kEntryHeader, key.bytes.data(), k);
  std::memcpy(blob + kEntryHeader + k, value.data(), value.size());
  auto it = sets_[ks].lazy_emplace(key, [&](const auto& ctor) {
    ctor(Slot{blob});
    ++count_;
  });
  if (it->blob != blob) {  // held: the new entry follows the kept ones
    prev = it->blob;
    it->blob = blob;
  }
  std::memcpy(blob, &prev, sizeof prev);
  size_t n = 1;
  for (; prev && n <= kMaxChain; prev = Prev(prev)) ++n;
  return n;
}

void PendingStates::ReleaseChain(const char* blob) {
  while (blob) {
    const char* prev = Prev(blob);
    Release(blob);
    blob = prev;
  }
}

// An entry lies in the first huge page of its block (a block larger than one holds one entry),
// so its block starts at the entry's address rounded down to a huge page.
void PendingStates::Release(const char* blob) {
  Block* b = reinterpret_cast<Block*>(reinterpret_cast<uintptr_t>(blob) & ~(kHugePage - 1));
  if (--b->live == 0 && b != block_) UnmapHuge(b, b->bytes);
}

}  // namespace sluice::features
