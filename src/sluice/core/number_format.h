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

namespace internal {
// Writes r / 10^d with d decimals (|r| an exact integer below 2^53); returns the end.
inline char* WriteScaled(int64_t r, int d, char* p) {
  if (r < 0) {
    *p++ = '-';
    r = -r;
  }
  char buf[24];
  char* end = std::to_chars(buf, buf + sizeof buf, r).ptr;
  const int digits = static_cast<int>(end - buf);
  if (digits <= d) {  // 0.00ddd
    *p++ = '0';
    *p++ = '.';
    for (int i = digits; i < d; ++i) *p++ = '0';
    for (char* q = buf; q < end; ++q) *p++ = *q;
    return p;
  }
  for (int i = 0; i < digits - d; ++i) *p++ = buf[i];
  *p++ = '.';
  for (int i = digits - d; i < digits; ++i) *p++ = buf[i];
  return p;
}
}  // namespace internal

inline constexpr int kMaxDoubleChars = 32;

// Writes v in a form that parses back to the same double; p needs kMaxDoubleChars bytes.
inline char* WriteDouble(double v, char* p) {
  if (v == 0) v = 0;                             // print -0.0 as 0
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (v > -kExact && v < kExact && v == static_cast<double>(static_cast<int64_t>(v))) {
    return std::to_chars(p, p + kMaxDoubleChars, static_cast<int64_t>(v)).ptr;
  }
  // Values that are decimals with few places (amounts, coordinates): if r / 10^d, computed with
  // one correctly rounded division, is exactly v, then the text of r with d decimals parses back
  // to v. Far cheaper than a general shortest-digits search.
  static constexpr double kScale[] = {1e1, 1e2, 1e3, 1e4};
  const double av = v < 0 ? -v : v;
  if (av >= 1e-4 && av < 1e11) {
    for (int d = 0; d < 4; ++d) {
      const double r = std::nearbyint(v * kScale[d]);
      if (r / kScale[d] == v) return internal::WriteScaled(static_cast<int64_t>(r), d + 1, p);
    }
  }
  return fmt::format_to(p, FMT_COMPILE("{}"), v);
}

inline void AppendDouble(double v, std::string* out) {
  char buf[kMaxDoubleChars];
  out->append(buf, WriteDouble(v, buf));
}

inline void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

}  // namespace sluice::core
