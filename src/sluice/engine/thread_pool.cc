#include "sluice/engine/thread_pool.h"

namespace sluice::engine {

ThreadPool::ThreadPool(int threads) : threads_(threads < 1 ? 1 : threads) {
  if (threads_ == 1) return;
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { Worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Run(int tasks, const std::function<void(int)>& fn) {
  if (threads_ == 1 || tasks <= 1) {
    for (int i = 0; i < tasks; ++i) fn(i);
    return;
  }
  std::unique_lock<std::mutex> l(mu_);
  fn_ = &fn;
  tasks_ = tasks;
  next_ = 0;
  finished_ = 0;
  ++generation_;
  start_.notify_all();
  done_.wait(l, [&] { return finished_ == tasks_; });
  fn_ = nullptr;
}

void ThreadPool::Worker() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    start_.wait(l, [&] { return stop_ || (generation_ != seen && next_ < tasks_); });
    if (stop_) return;
    while (next_ < tasks_) {
      const int task = next_++;
      const std::function<void(int)>* fn = fn_;
      l.unlock();
      (*fn)(task);
      l.lock();
      if (++finished_ == tasks_) done_.notify_one();
    }
    seen = generation_;
  }
}

}  // namespace sluice::engine
