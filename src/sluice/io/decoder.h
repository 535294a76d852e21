#pragma once
// Decoding one record (JSONL line or CSV row) into typed values per the pipeline's schema.
// A record that cannot be decoded yields a reason and a detail for its dead letter.
// Not thread-safe: give each decoding thread its own Decoder (MakeDecoder is cheap).
#include <memory>
#include <string>
#include <string_view>

#include "sluice/core/reason.h"
#include "sluice/core/schema.h"
#include "sluice/core/status.h"
#include "sluice/core/value.h"
#include "sluice/io/arena.h"
#include "sluice/spec/pipeline.h"

namespace sluice::io {

struct DecodeError {
  core::Reason reason = core::Reason::kNone;
  std::string detail;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // CSV reads its header here (the first record); JSONL needs none.
  virtual bool NeedsHeader() const { return false; }
  virtual core::Status SetHeader(std::string_view header) { return core::Status::Ok(); }
  // Decodes `record` into values[0 .. schema.size()) and the event time. Strings land in `arena`
  // (or point into `record`, which the caller keeps alive). `record` has RecordReader::kPadding
  // readable bytes after it. On failure returns false and fills `err`.
  virtual bool Decode(std::string_view record, core::Value* values, core::EventTime* time,
                      StringArena* arena, DecodeError* err) = 0;
  // Reads only the event time of `record` (padded as for Decode), to order records before they
  // are decoded (engine::PartitionAligner). False when it cannot be read. When both succeed the
  // times are equal. It may read a time where Decode fails for another reason (a field or
  // syntax error elsewhere in the record, which Decode then dead-letters), and JSONL's reads
  // no time under a key written with escapes ("t\u0073" for "ts"), which Decode unescapes.
  // `values` (schema.size() of them) and `arena` are scratch space. The default decodes it all.
  virtual bool DecodeTime(std::string_view record, core::Value* values, StringArena* arena,
                          core::EventTime* time) {
    DecodeError err;
    return Decode(record, values, time, arena, &err);
  }
};

std::unique_ptr<Decoder> MakeJsonlDecoder(const core::Schema& schema, bool reject_unknown_fields);
std::unique_ptr<Decoder> MakeCsvDecoder(const core::Schema& schema, char delimiter,
                                        bool reject_unknown_fields);
std::unique_ptr<Decoder> MakeDecoder(const spec::Pipeline& p);

// A number written as text (a CSV cell, a JSON number's token): an int64 when it reads as one,
// else a finite double. False when the whole text is neither.
bool NumberFromText(std::string_view text, core::Value* out);

// Converts the raw event-time value to an EventTime per unit; shared by both decoders.
bool TimeFromValue(const core::Value& v, core::TimeUnit unit, core::EventTime* out,
                   DecodeError* err);

// Sets err and returns false, for `return Fail(...)` in decoders.
inline bool Fail(DecodeError* err, core::Reason r, std::string detail) {
  err->reason = r;
  err->detail = std::move(detail);
  return false;
}

// The last step of both decoders: the event time is checked before any field error is reported
// (bad_time is the better reason, docs/semantics.md). `what` names a field ("field", "column").
bool FinishDecode(const core::Schema& schema, const core::Value* values, const char* what,
                  DecodeError* field_err, core::EventTime* time, DecodeError* err);

}  // namespace sluice::io
