#pragma once
// Shortest round-trip formatting of doubles, so a printed value parses back to the same bits.
// Integral values (counts) take an integer fast path; others use fmt's Dragonbox, several times
// faster than libstdc++'s to_chars here. Appends to a caller-owned buffer.
#include <fmt/compile.h>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <string>

namespace sluice::core {

inline void AppendDouble(double v, std::string* out) {
  char buf[32];
  if (v == 0) v = 0;  // print -0.0 as 0
  if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == static_cast<double>(static_cast<int64_t>(v))) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    out->append(buf, r.ptr);
    return;
  }
  char* end = fmt::format_to(buf, FMT_COMPILE("{}"), v);
  out->append(buf, end);
}

inline void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

}  // namespace sluice::core
