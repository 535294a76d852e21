#include "sluice/features/huge_pages.h"

#include <sys/mman.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

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

struct PrefaultedHugePages::State {
  std::mutex mu;
  std::condition_variable cv;  // a page taken, or stop
  std::deque<void*> ready;
  bool stop = false;
  int ahead;
  int taken = 0;  // Take calls (the consumer's only)
  std::thread thread;
};

PrefaultedHugePages::PrefaultedHugePages(int ahead) : state_(std::make_unique<State>()) {
  state_->ahead = ahead < 1 ? 1 : ahead;
}

void PrefaultedHugePages::Start() {
  State* st = state_.get();
  st->thread = std::thread([st] {
    std::unique_lock<std::mutex> lock(st->mu);
    while (true) {
      st->cv.wait(lock,
                  [st] { return st->stop || st->ready.size() < static_cast<size_t>(st->ahead); });
      if (st->stop) return;
      lock.unlock();
      void* p = MapHuge(kHugePage);
      // One write per small page faults the whole huge page in (or each small page where huge
      // pages are off).
      for (size_t off = 0; p && off < kHugePage; off += 4096)
        static_cast<volatile char*>(p)[off] = 0;
      lock.lock();
      if (!p) return;  // the system refuses: Take maps its own (and fails the same way)
      st->ready.push_back(p);
    }
  });
}

PrefaultedHugePages::~PrefaultedHugePages() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
  for (void* p : state_->ready) UnmapHuge(p, kHugePage);
}

void* PrefaultedHugePages::Take() {
  if (++state_->taken == 2) Start();
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (!state_->ready.empty()) {
      void* p = state_->ready.front();
      state_->ready.pop_front();
      state_->cv.notify_all();
      return p;
    }
  }
  state_->cv.notify_all();
  return MapHuge(kHugePage);
}

}  // namespace sluice::features
