#pragma once
// A fixed set of worker threads that run one parallel step at a time: Run(n, fn) calls fn(0..n-1)
// across the workers and returns when all are done. Steps are the unit of synchronisation, so
// tasks of one step may share nothing writable. With one thread, tasks run inline.
// Run is called from one thread at a time.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sluice::engine {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }
  void Run(int tasks, const std::function<void(int)>& fn);

 private:
  void Worker();

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* fn_ = nullptr;
  int tasks_ = 0, next_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace sluice::engine
