#pragma once
// Event time and durations: integer microseconds since the Unix epoch, so window bounds compare
// exactly. Strong types keep a duration from being passed where a timestamp is expected.
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/status.h"

namespace sluice::core {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Micros(int64_t us) { return Duration(us); }
  static constexpr Duration Millis(int64_t ms) { return Duration(ms * 1000); }
  static constexpr Duration Seconds(int64_t s) { return Duration(s * 1000000); }
  static constexpr Duration Hours(int64_t h) { return Seconds(h * 3600); }
  static constexpr Duration Days(int64_t d) { return Seconds(d * 86400); }
  constexpr int64_t micros() const { return us_; }
  constexpr double seconds() const { return static_cast<double>(us_) / 1e6; }
  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(us_ + o.us_); }
  constexpr Duration operator*(int64_t k) const { return Duration(us_ * k); }

 private:
  constexpr explicit Duration(int64_t us) : us_(us) {}
  int64_t us_ = 0;
};

class EventTime {
 public:
  constexpr EventTime() = default;
  static constexpr EventTime FromMicros(int64_t us) { return EventTime(us); }
  constexpr int64_t micros() const { return us_; }
  constexpr auto operator<=>(const EventTime&) const = default;
  constexpr EventTime operator+(Duration d) const { return EventTime(us_ + d.micros()); }
  constexpr EventTime operator-(Duration d) const { return EventTime(us_ - d.micros()); }
  constexpr Duration operator-(EventTime o) const { return Duration::Micros(us_ - o.us_); }

 private:
  constexpr explicit EventTime(int64_t us) : us_(us) {}
  int64_t us_ = 0;
};

// Valid event times: [1970-01-01, 2200-01-01) (docs/semantics.md).
inline constexpr int64_t kMaxEventMicros = 7258118400LL * 1000000;  // 2200-01-01T00:00:00Z
inline constexpr bool IsValidEventTime(int64_t us) { return us >= 0 && us < kMaxEventMicros; }

enum class TimeUnit { kSeconds, kMillis, kMicros, kIso8601 };

// Microseconds per unit (seconds for iso8601, which is how expressions read it).
int64_t MicrosPerUnit(TimeUnit unit);

// "250ms", "30s", "5m", "1h", "7d", also "0" and "1us". Positive integers only.
Result<Duration> ParseDuration(std::string_view text);
std::string FormatDuration(Duration d);

// A number in `unit` (not iso8601) to microseconds, rounded to nearest; fails when out of range.
Result<EventTime> TimeFromNumber(double value, TimeUnit unit);
Result<EventTime> TimeFromInteger(int64_t value, TimeUnit unit);
// ISO-8601 "YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z|+HH:MM]" (T or space); no zone means UTC.
Result<EventTime> ParseIso8601(std::string_view text);
// "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", fraction trimmed. Valid (non-negative) event times only.
std::string FormatIso8601(EventTime t);
void AppendIso8601(EventTime t, std::string* out);
// The time in `unit` as an exact, shortest decimal (iso8601: FormatIso8601). Appends to out.
void AppendTime(EventTime t, TimeUnit unit, std::string* out);

// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian, H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

}  // namespace sluice::core
