#pragma once
// Point-in-time label join for training sets (SPEC.md §2 `labels:`, §4). Labels are loaded into
// memory keyed by event id. An applied event takes its label when the label is no earlier than the
// event and arrived within `maturity`; a label earlier than its event, or later than its maturity,
// is a dead letter. An event without a usable label gets `default_label` if its maturity has
// passed by the end of the data (the newest event or label time), otherwise no label.
// Not thread-safe: used from the sequential admission step.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/features/keys.h"
#include "sluice/io/dead_letter.h"
#include "sluice/spec/pipeline.h"

namespace sluice::engine {

class LabelJoin {
 public:
  static core::Result<std::unique_ptr<LabelJoin>> Load(const spec::Pipeline& p,
                                                       const std::string& path,
                                                       io::DeadLetterSink* dead);

  // The label for an applied event with id `event_id` (a string or int value), or NaN when it
  // has none (yet). Writes dead letters for labels that cannot be used.
  core::Result<double> Match(const core::Value& event_id, int64_t event_time_us,
                             io::DeadLetterSink* dead);
  // For an event Match gave NaN: default_label when mature by the end of the data, else NaN.
  double Resolve(int64_t event_time_us) const;
  void NoteEventTime(int64_t t) { end_of_data_ = t > end_of_data_ ? t : end_of_data_; }
  // Dead-letters labels whose event never appeared.
  core::Status Finish(io::DeadLetterSink* dead);

  int64_t loaded() const { return static_cast<int64_t>(labels_.size()); }
  int64_t joined() const { return joined_; }

 private:
  struct Label {
    double value;
    int64_t time_us;
    int64_t line;
    std::string raw;
    bool used = false;
  };
  LabelJoin() = default;
  // An id as the label map's key text; ints are written into buf (no allocation per event).
  static std::string_view IdText(const core::Value& id, char (&buf)[24]);
  core::Status Reject(const Label& l, core::Reason r, const std::string& detail,
                      io::DeadLetterSink* dead);

  const spec::Pipeline* p_ = nullptr;
  std::string path_;
  std::vector<Label> labels_;
  features::KeyMap<int64_t> by_id_;  // event id -> index into labels_
  int64_t end_of_data_ = 0;
  int64_t joined_ = 0;
};

}  // namespace sluice::engine
