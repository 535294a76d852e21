#pragma once
// Memory for large keyed state (key-state slabs, key tables) in transparent huge pages.
// Restoring a checkpoint touches all of a process's state at once, and on the project's 2-core VMs
// the first touch of a small page is the largest cost of restoring the key that lands on it
// (docs/benchmarks.md, "Checkpoints": 4 KiB pages first touched at ~0.25 GB/s). A 2 MiB page
// costs one fault for 512 of them. Where huge pages are off, the advice is ignored and the memory
// is small pages, which works the same.
#include <cstddef>
#include <memory>
#include <new>

namespace sluice::features {

inline constexpr size_t kHugePage = size_t{2} << 20;

// `bytes` rounded up to a multiple of kHugePage, mapped at a kHugePage boundary and advised
// MADV_HUGEPAGE; nullptr when the system refuses the mapping. Free with UnmapHuge(p, bytes).
void* MapHuge(size_t bytes);
void UnmapHuge(void* p, size_t bytes);
// Bytes MapHuge'd and not yet unmapped, in the whole process (malloc statistics do not see them).
size_t MappedHugeBytes();

// Huge pages mapped and first touched ahead of use by a thread of its own, so that a caller
// filling many of them in a row (a restore copying key entries, pending_states.h) does not wait
// for the kernel to zero each one: on the project's VMs zeroing fresh memory is most of a
// restore's time, and this moves it to the other core. Keeps up to `ahead` pages ready; Take
// never waits (with none ready it maps a page itself). The thread starts at the second Take, so
// a caller that needs one page (a small restore) starts nothing. One consumer thread.
class PrefaultedHugePages {
 public:
  explicit PrefaultedHugePages(int ahead = 8);
  ~PrefaultedHugePages();  // stops the thread, unmaps the pages not taken
  PrefaultedHugePages(const PrefaultedHugePages&) = delete;
  PrefaultedHugePages& operator=(const PrefaultedHugePages&) = delete;
  // kHugePage bytes at a kHugePage boundary (as MapHuge(kHugePage)), or nullptr when the system
  // refuses the mapping. Free with UnmapHuge(p, kHugePage).
  void* Take();

 private:
  void Start();
  struct State;
  std::unique_ptr<State> state_;
};

// std::allocator, except that blocks of kHugePage bytes or more are MapHuge'd: for hash tables
// whose slot arrays grow to many megabytes.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding is implicit
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes >= kHugePage) {
      if (void* p = MapHuge(bytes)) return static_cast<T*>(p);
      throw std::bad_alloc();
    }
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes >= kHugePage) {
      UnmapHuge(p, bytes);
    } else {
      std::allocator<T>().deallocate(p, n);
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace sluice::features
