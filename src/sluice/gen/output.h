#pragma once
// The last steps of `sluice gen fraud`: when each transaction reaches the log (some late), which
// ones get a chargeback label and when, and the JSONL files themselves, formatted by hand into a
// large buffer because a JSON library would be most of the run time. Internal to the gen module.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/gen/random.h"
#include "sluice/gen/txn.h"
#include "sluice/gen/world.h"

namespace sluice::gen {

inline constexpr int64_t kAllowedLatenessMs =
    5 * kMinuteMs;  // the lateness the stream is built for

// Sets Txn::arrival for `txns` (sorted by event time) and returns their indices in arrival order:
// about 1% arrive 2 s to 2 min late, about 0.05% after a newer event of the same card or shop that
// is more than kAllowedLatenessMs ahead of them, so an engine with that lateness drops them.
std::vector<int32_t> AssignArrivals(std::vector<Txn>* txns, size_t users, size_t merchants,
                                    Rng& rng);

struct Disorder {
  int64_t out_of_order = 0;  // arrived after a newer event, within the allowed lateness
  int64_t late = 0;          // older than (newest of its user or merchant - allowed lateness)
};
// Counts, for events read in `order`, what an engine keyed by user_id and merchant_id with
// kAllowedLatenessMs would see.
Disorder CountDisorder(const std::vector<Txn>& txns, const std::vector<int32_t>& order,
                       size_t users, size_t merchants);

struct Label {
  int64_t ts;          // when the chargeback lands, epoch ms
  int64_t txn_number;  // 1-based position in event-time order, as in the txn_id
};
struct LabelCounts {
  int64_t unreported_fraud = 0;
  int64_t false_chargebacks = 0;
};
// Chargebacks for `txns` (sorted by event time), sorted by their time: most fraud is reported
// 1 to 45 days later, some never is, and a few legitimate payments are disputed anyway.
std::vector<Label> MakeLabels(const std::vector<Txn>& txns, int32_t episodes, Rng& rng,
                              LabelCounts* counts);

// Digits of the zero-padded ids, wide enough for every id of this run.
struct IdWidths {
  int txn = 9, user = 5, merchant = 4;
};

// A JSONL output file behind a 1 MiB buffer. Not thread-safe. Write errors are remembered and
// reported by Close, so the per-record calls stay cheap.
class JsonlFile {
 public:
  JsonlFile() = default;
  JsonlFile(const JsonlFile&) = delete;
  JsonlFile& operator=(const JsonlFile&) = delete;
  ~JsonlFile();

  core::Status Open(const std::string& path);
  void WriteEvent(const Txn& t, int64_t txn_number, const World& world, const IdWidths& widths);
  void WriteLabel(const Label& label, const IdWidths& widths);
  core::Status Close();

 private:
  char* Reserve();
  void Flush();

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buf_;
  size_t used_ = 0;
  int error_ = 0;  // errno of the first failed write
};

}  // namespace sluice::gen
