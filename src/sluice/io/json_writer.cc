#include "sluice/io/json_writer.h"

#include <array>
#include <cstdint>

#include <simdjson.h>

namespace sluice::io {

bool IsValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when the byte there starts none.
size_t Utf8SeqLen(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  return simdjson::validate_utf8(s.data() + i, n) ? n : 0;
}

// Bytes copied as they are: printable ASCII other than the quote and backslash (kPlain[c] & 1),
// and bytes >= 0x80 of a string already known to be valid UTF-8 (kPlain[c] & 2).
constexpr std::array<uint8_t, 256> kPlain = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[c] = (c == '"' || c == '\\') ? 0 : 1;
  for (int c = 0x80; c < 0x100; ++c) t[c] = 2;
  return t;
}();

}  // namespace

bool AppendJsonString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  const bool valid = IsValidUtf8(s);
  const uint8_t plain = valid ? 3 : 1;
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    // Runs that need no escaping (nearly all of a record) are copied at once, not byte by byte:
    // dead letters quote whole records, and this was their hot spot.
    size_t run = i;
    while (run < s.size() && (kPlain[static_cast<unsigned char>(s[run])] & plain)) ++run;
    if (run > i) {
      out->append(s.data() + i, run - i);
      i = run;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = valid ? 1 : Utf8SeqLen(s, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD
        ++i;
      } else {
        out->append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
  return valid;
}

void AppendBase64(std::string_view s, std::string* out) {
  static const char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k = 3; k >= 0; --k) out->push_back(kAlpha[(v >> (6 * k)) & 63]);
  }
  if (i < s.size()) {
    uint32_t v = uint8_t(s[i]) << 16;
    if (i + 1 < s.size()) v |= uint8_t(s[i + 1]) << 8;
    out->push_back(kAlpha[(v >> 18) & 63]);
    out->push_back(kAlpha[(v >> 12) & 63]);
    out->push_back(i + 1 < s.size() ? kAlpha[(v >> 6) & 63] : '=');
    out->push_back('=');
  }
}

}  // namespace sluice::io
