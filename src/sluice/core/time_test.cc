#include "sluice/core/time.h"

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(ParseDuration("250ms")->micros(), 250000);
  EXPECT_EQ(ParseDuration("30s")->micros(), 30000000);
  EXPECT_EQ(ParseDuration("5m")->micros(), 300000000);
  EXPECT_EQ(ParseDuration("1h")->micros(), 3600000000LL);
  EXPECT_EQ(ParseDuration("7d")->micros(), 7 * 86400000000LL);
  EXPECT_EQ(ParseDuration("0")->micros(), 0);
}

TEST(Duration, RejectsBadText) {
  for (const char* bad : {"", "h", "1hour", "-5m", "1.5h", "5 m", "99999999999999999999d"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(Duration, FormatsLargestExactUnit) {
  EXPECT_EQ(FormatDuration(Duration::Hours(48)), "2d");
  EXPECT_EQ(FormatDuration(Duration::Millis(1500)), "1500ms");
}

TEST(Iso8601, RoundTrips) {
  auto t = ParseIso8601("2024-02-29T23:59:58.123456Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatIso8601(*t), "2024-02-29T23:59:58.123456Z");
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00Z")->micros(), 0);
  EXPECT_EQ(ParseIso8601("1970-01-01 01:00:00+01:00")->micros(), 0);
  EXPECT_EQ(ParseIso8601("2001-09-09T01:46:40")->micros(), 1000000000LL * 1000000);
}

TEST(Iso8601, RejectsInvalid) {
  for (const char* bad : {"2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-01-01",
                          "2023-01-01T24:00:00Z", "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
                          "2023-01-01T00:00:00Zjunk", "2023-01-01T00:00:00.Z"}) {
    EXPECT_FALSE(ParseIso8601(bad).ok()) << bad;
  }
}

TEST(EventTime, NumbersInUnits) {
  EXPECT_EQ(TimeFromInteger(1700000000123, TimeUnit::kMillis)->micros(), 1700000000123000);
  EXPECT_EQ(TimeFromNumber(1.5, TimeUnit::kSeconds)->micros(), 1500000);
  EXPECT_FALSE(TimeFromNumber(-1, TimeUnit::kSeconds).ok());
  EXPECT_FALSE(TimeFromNumber(1e30, TimeUnit::kMillis).ok());
  EXPECT_FALSE(TimeFromInteger(INT64_MAX, TimeUnit::kMillis).ok());
}

TEST(EventTime, AppendsInUnit) {
  std::string s;
  AppendTime(EventTime::FromMicros(1500000), TimeUnit::kSeconds, &s);
  EXPECT_EQ(s, "1.5");
  s.clear();
  AppendTime(EventTime::FromMicros(1700000000123000), TimeUnit::kMillis, &s);
  EXPECT_EQ(s, "1700000000123");
  s.clear();
  AppendTime(EventTime::FromMicros(1001), TimeUnit::kMillis, &s);
  EXPECT_EQ(s, "1.001");
  s.clear();
  AppendTime(EventTime::FromMicros(1700000000120000), TimeUnit::kSeconds, &s);
  EXPECT_EQ(s, "1700000000.12");
  s.clear();
  AppendTime(EventTime::FromMicros(5), TimeUnit::kSeconds, &s);
  EXPECT_EQ(s, "0.000005");
  s.clear();
  AppendTime(EventTime::FromMicros(0), TimeUnit::kIso8601, &s);
  EXPECT_EQ(s, "1970-01-01T00:00:00Z");
  s.clear();
  AppendTime(EventTime::FromMicros(7258118399999990), TimeUnit::kIso8601, &s);
  EXPECT_EQ(s, "2199-12-31T23:59:59.99999Z");
}

}  // namespace
}  // namespace sluice::core
