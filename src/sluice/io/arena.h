#pragma once
// A bump allocator for decoded strings: views handed out stay valid until Reset(). Blocks are
// reused across resets, so steady-state decoding allocates nothing. Not thread-safe: one per
// thread.
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace sluice::io {

class StringArena {
 public:
  std::string_view Copy(std::string_view s) {
    char* p = Allocate(s.size());
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }
  char* Allocate(size_t n) {
    if (used_ + n > cap_) NextBlock(n);
    char* p = current_ + used_;
    used_ += n;
    return p;
  }
  void Reset() {
    block_ = 0;
    current_ = nullptr;
    used_ = cap_ = 0;
  }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  void NextBlock(size_t n) {
    while (block_ < blocks_.size() && sizes_[block_] < n) ++block_;
    if (block_ == blocks_.size()) {
      size_t size = n > kBlock ? n : kBlock;
      blocks_.push_back(std::make_unique<char[]>(size));
      sizes_.push_back(size);
    }
    current_ = blocks_[block_].get();
    cap_ = sizes_[block_];
    used_ = 0;
    ++block_;
  }
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<size_t> sizes_;
  size_t block_ = 0;
  char* current_ = nullptr;
  size_t used_ = 0, cap_ = 0;
};

}  // namespace sluice::io
