#include "sluice/features/block_pool.h"

#include <algorithm>
#include <cstdint>
#include <new>

#include "sluice/features/huge_pages.h"

namespace sluice::features {

namespace {
constexpr size_t kFirstSlab = size_t{64} << 10;
}  // namespace

struct BlockPool::Slab {
  Slab* next;
  char* mem;
  size_t bytes;
  bool mapped;  // by MapHuge, else operator new[]
};

BlockPool::BlockPool(size_t block) : block_((std::max(block, sizeof(void*)) + 15) & ~size_t{15}) {}

BlockPool::~BlockPool() {
  while (slabs_ != nullptr) {
    Slab* s = slabs_;
    slabs_ = s->next;
    if (s->mapped) {
      UnmapHuge(s->mem, s->bytes);
    } else {
      delete[] s->mem;
    }
    delete s;
  }
}

// Slabs double from 64 KiB (a shard of few keys stays small) to 2 MiB, then stay at 2 MiB (or
// the multiple of it that holds 16 blocks), each one huge-page aligned.
void BlockPool::NewSlab() {
  // The rest of the current slab, too short for a block, is left unused.
  size_t bytes = std::clamp(bytes_, kFirstSlab, kHugePage);
  bytes = std::max(bytes, 16 * block_);
  char* mem = nullptr;
  bool mapped = false;
  if (bytes >= kHugePage) {
    bytes = (bytes + kHugePage - 1) & ~(kHugePage - 1);
    mem = static_cast<char*>(MapHuge(bytes));
    mapped = mem != nullptr;
  }
  if (mem == nullptr) mem = new char[bytes];  // not zeroed: every block is constructed before use
  slabs_ = new Slab{slabs_, mem, bytes, mapped};
  next_ = mem;
  end_ = mem + bytes;
  blocks_ += bytes / block_;
  bytes_ += bytes;
}

}  // namespace sluice::features
