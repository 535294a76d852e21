// Fuzzes the CSV decoder. The first byte picks the time unit, the delimiter, whether undeclared
// columns are rejected and how the rest is cut into records; the first line of the rest is the
// header (SetHeader), the following lines are records, each in its own padded buffer. Checks as
// for JSONL: invalid UTF-8 is parse_error, reasons belong to decoding, accepted values are typed.
#include <cmath>
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

sluice::core::Schema MakeSchema(int unit_bits) {
  const sluice::core::TimeUnit units[4] = {
      sluice::core::TimeUnit::kMillis, sluice::core::TimeUnit::kSeconds,
      sluice::core::TimeUnit::kMicros, sluice::core::TimeUnit::kIso8601};
  return sluice::core::Schema({{"id", FieldType::kString},
                               {"user", FieldType::kString},
                               {"amount", FieldType::kDouble},
                               {"qty", FieldType::kInt},
                               {"flag", FieldType::kBool}},
                              "ts", units[unit_bits & 3]);
}

void DecodeRecord(sluice::io::Decoder* d, const sluice::core::Schema& schema,
                  std::string_view record, sluice::io::StringArena* arena) {
  std::vector<Value> values(schema.size());
  sluice::core::EventTime time;
  sluice::io::DecodeError err;
  sluice::fuzz::PaddedCopy padded(record);
  bool ok = d->Decode(padded.view(), values.data(), &time, arena, &err);
  if (sluice::fuzz::CheckUtf8Oracle() && !sluice::fuzz::IsValidUtf8(record) &&
      (ok || err.reason != Reason::kParseError))
    sluice::fuzz::Fail("invalid UTF-8 was not a parse_error (docs/semantics.md, Decoding)", record);
  sluice::fuzz::CheckDecodeOutcome(ok, err, time, record);
  if (!ok) return;
  unsigned sum = 0;
  for (size_t i = 0; i < schema.size(); ++i) {
    if (static_cast<int>(i) == schema.time_index()) continue;
    const Value& v = values[i];
    if (!v.is_null() && !sluice::fuzz::KindMatches(v, schema.field(i).type))
      sluice::fuzz::Fail("decoded value does not have its field's declared type", record);
    if (v.kind == Value::Kind::kDouble && !std::isfinite(v.d))
      sluice::fuzz::Fail("CSV accepted a non-finite double (nan/inf are rejected)", record);
    for (char c : v.s) sum += static_cast<unsigned char>(c);  // ASan checks the view is live.
  }
  sluice::fuzz::Consume(sum);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  const char delimiters[4] = {',', ';', '\t', '|'};
  static const sluice::core::Schema schemas[4] = {MakeSchema(0), MakeSchema(1), MakeSchema(2),
                                                  MakeSchema(3)};
  const sluice::core::Schema& schema = schemas[sel & 3];
  auto decoder = sluice::io::MakeCsvDecoder(schema, delimiters[(sel >> 3) & 3], (sel & 4) != 0);
  const bool whole_rest = (sel & 0x20) != 0;

  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nl = rest.find('\n');
  std::string_view header = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  sluice::fuzz::PaddedCopy padded_header(header);
  if (!decoder->SetHeader(padded_header.view()).ok()) return 0;

  static sluice::io::StringArena arena;
  arena.Reset();
  if (whole_rest) {
    DecodeRecord(decoder.get(), schema, rest, &arena);
    return 0;
  }
  while (!rest.empty()) {
    nl = rest.find('\n');
    DecodeRecord(decoder.get(), schema, rest.substr(0, nl), &arena);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return 0;
}
