#include "sluice/core/number_format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

namespace sluice::core {
namespace {

std::string Fmt(double v) {
  std::string s;
  AppendDouble(v, &s);
  return s;
}

TEST(NumberFormat, ShortForms) {
  EXPECT_EQ(Fmt(3), "3");
  EXPECT_EQ(Fmt(-0.0), "0");
  EXPECT_EQ(Fmt(0.1), "0.1");
  EXPECT_EQ(Fmt(123.45), "123.45");
  EXPECT_EQ(Fmt(-74.0059), "-74.0059");
  EXPECT_EQ(Fmt(0.0005), "0.0005");
  EXPECT_EQ(Fmt(1e20), "1e+20");
  EXPECT_EQ(Fmt(1.0 / 3), "0.3333333333333333");
}

// Every printed value must parse back to the very same double.
TEST(NumberFormat, RoundTripsExactly) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> wide(-1e6, 1e6);
  for (int i = 0; i < 200000; ++i) {
    double vals[] = {wide(rng),
                     std::round(wide(rng) * 100) / 100,
                     std::round(wide(rng) * 1e4) / 1e4,
                     wide(rng) * 1e-7,
                     wide(rng) * 1e12,
                     std::ldexp(wide(rng), static_cast<int>(rng() % 600) - 300)};
    for (double v : vals) {
      std::string s = Fmt(v);
      ASSERT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
    }
  }
}

}  // namespace
}  // namespace sluice::core
