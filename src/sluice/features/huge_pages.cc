#include "sluice/features/huge_pages.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdint>

namespace sluice::features {

namespace {
size_t Rounded(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }
std::atomic<size_t> mapped{0};
}  // namespace

void* MapHuge(size_t bytes) {
  bytes = Rounded(bytes);
  // Over-map by one huge page, then trim to the aligned part.
  const size_t span = bytes + kHugePage;
  void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) munmap(p, aligned - start);
  const uintptr_t tail = aligned + bytes, end = start + span;
  if (end > tail) munmap(reinterpret_cast<void*>(tail), end - tail);
  madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);  // advice: may be ignored
  mapped.fetch_add(bytes, std::memory_order_relaxed);
  return reinterpret_cast<void*>(aligned);
}

void UnmapHuge(void* p, size_t bytes) {
  munmap(p, Rounded(bytes));
  mapped.fetch_sub(Rounded(bytes), std::memory_order_relaxed);
}

size_t MappedHugeBytes() { return mapped.load(std::memory_order_relaxed); }

}  // namespace sluice::features
