#include "sluice/core/time.h"

#include <charconv>
#include <cmath>

namespace sluice::core {
namespace {

constexpr int64_t kMaxSafeMicros = int64_t{1} << 62;

bool ParseDigits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

int DaysInMonth(int64_t y, unsigned m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

Result<EventTime> Checked(int64_t us) {
  if (!IsValidEventTime(us)) {
    return Status::InvalidArgument("event time out of range [1970-01-01, 2200-01-01)");
  }
  return EventTime::FromMicros(us);
}

// Parses the fraction after '.', returns microseconds rounded half away from zero.
bool ParseFraction(std::string_view s, size_t* pos, int64_t* micros) {
  size_t start = *pos;
  int64_t v = 0;
  int digits = 0;
  int next = 0;
  while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') {
    if (digits < 6) {
      v = v * 10 + (s[*pos] - '0');
    } else if (digits == 6) {
      next = s[*pos] - '0';
    }
    ++digits;
    ++*pos;
  }
  if (*pos == start || digits > 9) return false;
  for (int i = digits; i < 6; ++i) v *= 10;
  *micros = v + (next >= 5 ? 1 : 0);
  return true;
}

}  // namespace

int64_t MicrosPerUnit(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMicros:
      return 1;
    case TimeUnit::kMillis:
      return 1000;
    default:
      return 1000000;
  }
}

Result<Duration> ParseDuration(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return Status::InvalidArgument("expected a duration like 250ms, 30s, 5m, 1h, 7d");
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + i, n);
  if (ec != std::errc()) return Status::InvalidArgument("duration too large");
  std::string_view unit = text.substr(i);
  int64_t mult = 0;
  if (unit == "us")
    mult = 1;
  else if (unit == "ms")
    mult = 1000;
  else if (unit == "s")
    mult = 1000000;
  else if (unit == "m")
    mult = 60LL * 1000000;
  else if (unit == "h")
    mult = 3600LL * 1000000;
  else if (unit == "d")
    mult = 86400LL * 1000000;
  else if (unit.empty() && n == 0)
    mult = 1;
  else
    return Status::InvalidArgument("unknown duration unit '" + std::string(unit) +
                                   "' (use us, ms, s, m, h or d)");
  if (n > kMaxSafeMicros / mult) return Status::InvalidArgument("duration too large");
  return Duration::Micros(n * mult);
}

std::string FormatDuration(Duration d) {
  int64_t us = d.micros();
  struct U {
    int64_t m;
    const char* s;
  };
  static const U kUnits[] = {{86400LL * 1000000, "d"},
                             {3600LL * 1000000, "h"},
                             {60LL * 1000000, "m"},
                             {1000000, "s"},
                             {1000, "ms"},
                             {1, "us"}};
  if (us == 0) return "0s";
  for (const U& u : kUnits) {
    if (us % u.m == 0) return std::to_string(us / u.m) + u.s;
  }
  return std::to_string(us) + "us";
}

Result<EventTime> TimeFromNumber(double value, TimeUnit unit) {
  if (!std::isfinite(value)) return Status::InvalidArgument("event time is not a finite number");
  double us = std::round(value * static_cast<double>(MicrosPerUnit(unit)));
  if (!(us >= 0 && us < static_cast<double>(kMaxEventMicros))) {
    return Status::InvalidArgument("event time out of range [1970-01-01, 2200-01-01)");
  }
  return Checked(static_cast<int64_t>(us));
}

Result<EventTime> TimeFromInteger(int64_t value, TimeUnit unit) {
  int64_t m = MicrosPerUnit(unit);
  if (value < 0 || value > kMaxEventMicros / m) {
    return Status::InvalidArgument("event time out of range [1970-01-01, 2200-01-01)");
  }
  return Checked(value * m);
}

Result<EventTime> ParseIso8601(std::string_view s) {
  size_t pos = 0;
  int y, mo, d, h, mi, sec;
  if (!ParseDigits(s, &pos, 4, &y) || !Expect(s, &pos, '-') || !ParseDigits(s, &pos, 2, &mo) ||
      !Expect(s, &pos, '-') || !ParseDigits(s, &pos, 2, &d)) {
    return Status::InvalidArgument("not an ISO-8601 date-time (YYYY-MM-DDTHH:MM:SS)");
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != ' ')) {
    return Status::InvalidArgument("ISO-8601 time needs 'T' and HH:MM:SS after the date");
  }
  ++pos;
  if (!ParseDigits(s, &pos, 2, &h) || !Expect(s, &pos, ':') || !ParseDigits(s, &pos, 2, &mi) ||
      !Expect(s, &pos, ':') || !ParseDigits(s, &pos, 2, &sec)) {
    return Status::InvalidArgument("not an ISO-8601 date-time (YYYY-MM-DDTHH:MM:SS)");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) {
    return Status::InvalidArgument("ISO-8601 date-time has a field out of range");
  }
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.' && (++pos, !ParseFraction(s, &pos, &frac))) {
    return Status::InvalidArgument("bad ISO-8601 fraction of a second");
  }
  int64_t offset_s = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!ParseDigits(s, &pos, 2, &oh) || !Expect(s, &pos, ':') || !ParseDigits(s, &pos, 2, &om) ||
        oh > 23 || om > 59) {
      return Status::InvalidArgument("bad ISO-8601 zone offset (use Z or +HH:MM)");
    }
    offset_s = sign * (oh * 3600 + om * 60);
  }
  if (pos != s.size()) return Status::InvalidArgument("trailing characters after ISO-8601 time");
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  if (secs < 0 || secs >= kMaxEventMicros / 1000000) {
    return Status::InvalidArgument("event time out of range [1970-01-01, 2200-01-01)");
  }
  return Checked(secs * 1000000 + frac);
}

namespace {

// Writes v as exactly `width` digits (zero-padded); v fits.
char* PutDigits(int64_t v, int width, char* p) {
  for (int i = width - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
  return p + width;
}

// Writes "." and the `width`-digit fraction without its trailing zeros; nothing when it is 0.
char* PutFraction(int64_t frac, int width, char* p) {
  if (frac == 0) return p;
  while (frac % 10 == 0) {
    frac /= 10;
    --width;
  }
  *p++ = '.';
  return PutDigits(frac, width, p);
}

}  // namespace

// Row formatting calls these for every event: they write into the caller's buffer, no allocation.
void AppendIso8601(EventTime t, std::string* out) {
  const int64_t us = t.micros();  // valid times are non-negative
  const int64_t secs = us / 1000000, rem = secs % 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(secs / 86400, &y, &m, &d);
  char buf[40];
  char* p = PutDigits(y, 4, buf);
  *p++ = '-';
  p = PutDigits(m, 2, p);
  *p++ = '-';
  p = PutDigits(d, 2, p);
  *p++ = 'T';
  p = PutDigits(rem / 3600, 2, p);
  *p++ = ':';
  p = PutDigits(rem / 60 % 60, 2, p);
  *p++ = ':';
  p = PutDigits(rem % 60, 2, p);
  p = PutFraction(us % 1000000, 6, p);
  *p++ = 'Z';
  out->append(buf, p);
}

std::string FormatIso8601(EventTime t) {
  std::string out;
  AppendIso8601(t, &out);
  return out;
}

void AppendTime(EventTime t, TimeUnit unit, std::string* out) {
  if (unit == TimeUnit::kIso8601) {
    AppendIso8601(t, out);
    return;
  }
  const int64_t m = MicrosPerUnit(unit);
  const int64_t us = t.micros();  // valid times are non-negative
  char buf[40];
  char* p = std::to_chars(buf, buf + 24, us / m).ptr;
  p = PutFraction(us % m, unit == TimeUnit::kMillis ? 3 : 6, p);
  out->append(buf, p);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

}  // namespace sluice::core
