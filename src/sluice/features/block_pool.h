#pragma once
// Fixed-size memory blocks carved from slabs: one key space's key states in a Shard. A new key
// costs a pointer pop instead of a malloc, blocks of evicted keys are reused by later keys, and
// once the pool is large its slabs are 2 MiB huge pages (huge_pages.h): a state of a million keys
// touches ~400 huge pages instead of ~200,000 small ones.
// Memory goes back to the system only when the pool is destroyed, so a pool holds the blocks of
// its peak key count.
// Not thread-safe: owned by one shard, used by its thread.
#include <cstddef>

namespace sluice::features {

class BlockPool {
 public:
  // `block` bytes per block, rounded up to a multiple of 16 (blocks are 16-byte aligned, as
  // operator new's).
  explicit BlockPool(size_t block);
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  void* Get() {
    if (free_ != nullptr) {
      void* p = free_;
      free_ = *static_cast<void**>(p);
      return p;
    }
    if (static_cast<size_t>(end_ - next_) < block_) NewSlab();
    void* p = next_;
    next_ += block_;
    return p;
  }
  // A block from Get, no longer used (its object already destroyed).
  void Put(void* p) {
    *static_cast<void**>(p) = free_;
    free_ = p;
  }
  // Blocks in all slabs, used or not.
  size_t blocks() const { return blocks_; }
  // Bytes of all slabs.
  size_t bytes() const { return bytes_; }

 private:
  struct Slab;
  void NewSlab();

  size_t block_;
  Slab* slabs_ = nullptr;  // newest first
  char* next_ = nullptr;   // the current slab's first unused byte
  char* end_ = nullptr;
  void* free_ = nullptr;  // blocks given back, linked through their first word
  size_t blocks_ = 0, bytes_ = 0;
};

}  // namespace sluice::features
