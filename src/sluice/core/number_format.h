#pragma once
// Shortest round-trip formatting of doubles (std::to_chars), so a printed value parses back to the
// same bits. Appends to a caller-owned buffer; allocates only when the buffer grows.
#include <charconv>
#include <cmath>
#include <string>

namespace sluice::core {

inline void AppendDouble(double v, std::string* out) {
  char buf[32];
  if (v == 0) v = 0;  // print -0.0 as 0
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

inline void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

}  // namespace sluice::core
