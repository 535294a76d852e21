#pragma once
// A one-line progress bar on stderr, shown only on a terminal (or when forced).
#include <chrono>
#include <cstdint>
#include <string>

namespace sluice::cli {

class Progress {
 public:
  Progress(std::string label, int64_t total, bool enabled);
  void Update(int64_t done);
  void Finish();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_;
};

// --progress forces the bar, --quiet hides it; otherwise it shows when stderr is a terminal.
bool ProgressWanted(bool force_on, bool force_off);

}  // namespace sluice::cli
