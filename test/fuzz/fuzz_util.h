#pragma once
// Helpers shared by the fuzz targets: a padded copy of an input (the decoders read up to
// RecordReader::kPadding bytes past a record, as simdjson does) and an independent UTF-8 check.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "sluice/core/reason.h"
#include "sluice/core/time.h"
#include "sluice/core/value.h"
#include "sluice/io/decoder.h"
#include "sluice/io/record_reader.h"

namespace sluice::fuzz {

// Owns `text` followed by kPadding bytes of '\0'; view() points at the text only.
class PaddedCopy {
 public:
  explicit PaddedCopy(std::string_view text)
      : buf_(text.size() + io::RecordReader::kPadding, '\0') {
    if (!text.empty()) std::memcpy(buf_.data(), text.data(), text.size());
    size_ = text.size();
  }
  std::string_view view() const { return {buf_.data(), size_}; }

 private:
  std::vector<char> buf_;
  size_t size_;
};

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
inline bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else
      return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    i += len;
  }
  return true;
}

// Whether a decoded non-null value has the kind its field's declared type asks for.
inline bool KindMatches(const core::Value& v, core::FieldType t) {
  switch (t) {
    case core::FieldType::kString:
      return v.kind == core::Value::Kind::kString;
    case core::FieldType::kDouble:
      return v.kind == core::Value::Kind::kDouble;
    case core::FieldType::kInt:
      return v.kind == core::Value::Kind::kInt;
    case core::FieldType::kBool:
      return v.kind == core::Value::Kind::kBool;
  }
  return false;
}

// SLUICE_FUZZ_SKIP_UTF8_CHECK=1 turns off the "invalid UTF-8 is parse_error" oracle, so a known
// finding (test/fuzz/crashes/csv_decoder/) does not stop a run that looks for other bugs.
inline bool CheckUtf8Oracle() {
  static const bool on = [] {
    const char* v = std::getenv("SLUICE_FUZZ_SKIP_UTF8_CHECK");
    return v == nullptr || v[0] == '\0' || v[0] == '0';
  }();
  return on;
}

// Keeps a value the optimiser would otherwise drop (reading every byte of a view is how ASan
// checks that the view still points at live memory).
inline volatile unsigned g_sink = 0;
inline void Consume(unsigned v) { g_sink = v; }

// Reports a broken invariant the way libFuzzer expects: print and abort, so the input is saved.
[[noreturn]] inline void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "INVARIANT BROKEN: %s\ninput (%zu bytes): %.*s\n", what, input.size(),
               static_cast<int>(input.size() > 512 ? 512 : input.size()), input.data());
  std::abort();
}

// What every decoder owes a caller, checked by both decoder targets: a failure has a decoding
// reason and a detail; a success has an event time in the valid range.
inline void CheckDecodeOutcome(bool ok, const io::DecodeError& err, core::EventTime time,
                               std::string_view input) {
  if (!ok) {
    if (err.reason != core::Reason::kParseError && err.reason != core::Reason::kSchema &&
        err.reason != core::Reason::kBadTime)
      Fail("decode failure with a reason outside parse_error/schema/bad_time", input);
    if (err.detail.empty()) Fail("decode failure without a detail", input);
    return;
  }
  if (!core::IsValidEventTime(time.micros())) Fail("accepted an out-of-range event time", input);
}

}  // namespace sluice::fuzz
