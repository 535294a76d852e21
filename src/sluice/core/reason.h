#pragma once
// Why a record became a dead letter. The names are the `reason` field of SPEC.md §4.
#include <cstdint>

namespace sluice::core {

enum class Reason : uint8_t {
  kNone = 0,
  kParseError,        // not valid JSON / CSV
  kSchema,            // valid syntax, wrong shape or types
  kBadTime,           // event time missing a valid value or out of range
  kOversize,          // longer than max_record_bytes
  kLate,              // older than newest(key) - allowed_lateness
  kExpired,           // older than stream time - state_ttl
  kLabelBeforeEvent,  // a label earlier than its event
  kLabelNoEvent,      // a label whose event is not in the log
  kLabelDuplicate,    // a second label for the same event
  kLabelExpired,      // a label that arrived after its event's maturity
};

inline const char* ReasonName(Reason r) {
  switch (r) {
    case Reason::kNone:
      return "none";
    case Reason::kParseError:
      return "parse_error";
    case Reason::kSchema:
      return "schema";
    case Reason::kBadTime:
      return "bad_time";
    case Reason::kOversize:
      return "oversize";
    case Reason::kLate:
      return "late";
    case Reason::kExpired:
      return "expired";
    case Reason::kLabelBeforeEvent:
      return "label_before_event";
    case Reason::kLabelNoEvent:
      return "label_no_event";
    case Reason::kLabelDuplicate:
      return "label_duplicate";
    case Reason::kLabelExpired:
      return "label_expired";
  }
  return "unknown";
}

inline constexpr int kNumReasons = 11;

}  // namespace sluice::core
