#pragma once
// Dead letters (SPEC.md §4): every record that cannot be applied, with why and where from.
// `record` keeps the raw text; when it is not valid UTF-8, `record_base64` keeps the exact bytes.
#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/core/reason.h"
#include "sluice/io/file_writer.h"

namespace sluice::io {

struct DeadLetter {
  core::Reason reason = core::Reason::kNone;
  std::string_view detail;
  std::string_view source;  // file name or "topic/partition"
  int64_t position = 0;     // line (files) or offset (Kafka)
  bool position_is_line = true;
  std::string_view record;
  bool truncated = false;
};

// Appends one dead letter as a JSON line to `out`.
void AppendDeadLetterJson(const DeadLetter& d, std::string* out);

// Counts dead letters by reason and writes them to a file (or nowhere, when no path is given).
// Not thread-safe.
class DeadLetterSink {
 public:
  static core::Result<std::unique_ptr<DeadLetterSink>> Open(const std::string& path);
  core::Status Write(const DeadLetter& d);
  // Writes out what is buffered (the streaming engine does after every batch).
  core::Status Flush() { return out_ ? out_->Flush() : core::Status::Ok(); }
  core::Status Close();
  int64_t count(core::Reason r) const { return counts_[static_cast<int>(r)]; }
  int64_t total() const;

 private:
  std::unique_ptr<FileWriter> out_;
  std::array<int64_t, core::kNumReasons> counts_{};
};

}  // namespace sluice::io
