#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace sluice::cli {

bool ProgressWanted(bool force_on, bool force_off) {
  if (force_off) return false;
  return force_on || isatty(2);
}

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()) {}

void Progress::Update(int64_t done) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100) && done < total_) return;
  last_ = now;
  double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 0;
  if (frac > 1) frac = 1;
  const int width = 30;
  int filled = static_cast<int>(frac * width);
  double secs = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r%s [%.*s%*s] %5.1f%% %.1fs", label_.c_str(), filled,
               "##############################", width - filled, "", frac * 100, secs);
  std::fflush(stderr);
}

void Progress::Finish() {
  if (!enabled_) return;
  Update(total_);
  std::fprintf(stderr, "\n");
}

}  // namespace sluice::cli
