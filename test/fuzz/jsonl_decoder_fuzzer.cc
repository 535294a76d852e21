// Fuzzes the JSONL decoder on a fixed schema. The first byte picks the time unit and whether
// undeclared fields are rejected; the rest is one record, copied into a padded buffer as the
// RecordReader would hand it over. Checks the documented contract, not just "does not crash":
// invalid UTF-8 is always parse_error, failures carry a dead-letter reason of the decoding stage,
// successes carry values of the declared types and a valid event time, decoding is repeatable,
// and DecodeTime (the time alone) agrees with Decode whenever both read a time.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fuzz_util.h"
#include "sluice/io/decoder.h"

namespace {

using sluice::core::FieldType;
using sluice::core::Reason;
using sluice::core::Value;

struct Setup {
  sluice::core::Schema schema;
  std::unique_ptr<sluice::io::Decoder> decoder;
};

// Eight decoders: every time unit, with and without rejecting undeclared fields. Built once.
Setup* GetSetup(int which) {
  static std::array<Setup, 8> setups = [] {
    std::array<Setup, 8> s;
    const sluice::core::TimeUnit units[4] = {
        sluice::core::TimeUnit::kMillis, sluice::core::TimeUnit::kSeconds,
        sluice::core::TimeUnit::kMicros, sluice::core::TimeUnit::kIso8601};
    for (int i = 0; i < 8; ++i) {
      s[i].schema = sluice::core::Schema({{"id", FieldType::kString},
                                          {"user", FieldType::kString},
                                          {"amount", FieldType::kDouble},
                                          {"qty", FieldType::kInt},
                                          {"flag", FieldType::kBool}},
                                         "ts", units[i & 3]);
      s[i].decoder = sluice::io::MakeJsonlDecoder(s[i].schema, (i & 4) != 0);
    }
    return s;
  }();
  return &setups[which];
}

struct Outcome {
  bool ok;
  Reason reason;
  int64_t time_us;
};

Outcome DecodeOnce(Setup* s, std::string_view record, sluice::io::StringArena* arena) {
  std::vector<Value> values(s->schema.size());
  sluice::core::EventTime time;
  sluice::io::DecodeError err;
  sluice::fuzz::PaddedCopy padded(record);
  bool ok = s->decoder->Decode(padded.view(), values.data(), &time, arena, &err);
  sluice::fuzz::CheckDecodeOutcome(ok, err, time, record);
  if (!ok) return {false, err.reason, 0};
  unsigned sum = 0;
  for (size_t i = 0; i < s->schema.size(); ++i) {
    if (static_cast<int>(i) == s->schema.time_index()) continue;
    const Value& v = values[i];
    if (!v.is_null() && !sluice::fuzz::KindMatches(v, s->schema.field(i).type))
      sluice::fuzz::Fail("decoded value does not have its field's declared type", record);
    if (v.kind == Value::Kind::kString) {
      for (char c : v.s) sum += static_cast<unsigned char>(c);  // ASan checks the view is live.
      if (!sluice::fuzz::IsValidUtf8(v.s))
        sluice::fuzz::Fail("decoded string is not valid UTF-8", record);
    }
  }
  sluice::fuzz::Consume(sum);
  return {true, Reason::kNone, time.micros()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Setup* s = GetSetup(data[0] & 7);
  std::string_view record(reinterpret_cast<const char*>(data + 1), size - 1);
  static sluice::io::StringArena arena;
  arena.Reset();
  Outcome first = DecodeOnce(s, record, &arena);
  if (sluice::fuzz::CheckUtf8Oracle() && !sluice::fuzz::IsValidUtf8(record) &&
      (first.ok || first.reason != Reason::kParseError))
    sluice::fuzz::Fail("invalid UTF-8 was not a parse_error (docs/semantics.md, Decoding)", record);
  Outcome second = DecodeOnce(s, record, &arena);
  if (first.ok != second.ok || first.reason != second.reason || first.time_us != second.time_us)
    sluice::fuzz::Fail("decoding the same record twice gave different results", record);
  // The time alone (DecodeTime, On-Demand): whenever both read a time it is the same one.
  std::vector<Value> scratch(s->schema.size());
  sluice::core::EventTime t;
  sluice::fuzz::PaddedCopy padded(record);
  if (s->decoder->DecodeTime(padded.view(), scratch.data(), &arena, &t) && first.ok &&
      t.micros() != first.time_us)
    sluice::fuzz::Fail("DecodeTime read another time than Decode", record);
  return 0;
}
