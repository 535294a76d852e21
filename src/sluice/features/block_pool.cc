#include "sluice/features/block_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <new>

namespace sluice::features {

namespace {

constexpr size_t kFirstSlab = size_t{64} << 10;

// `bytes` (a multiple of kHugePage) at a kHugePage boundary, marked for huge pages; nullptr when
// the system refuses the mapping.
char* MapHuge(size_t bytes) {
  const size_t span = bytes + BlockPool::kHugePage;
  void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (start + BlockPool::kHugePage - 1) & ~(BlockPool::kHugePage - 1);
  if (aligned > start) munmap(p, aligned - start);
  const uintptr_t tail = aligned + bytes, end = start + span;
  if (end > tail) munmap(reinterpret_cast<void*>(tail), end - tail);
  // Advice only: where transparent huge pages are off, the slab is small pages, and still works.
  madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
  return reinterpret_cast<char*>(aligned);
}

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
      munmap(s->mem, s->bytes);
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
    mem = MapHuge(bytes);
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
