#include "sluice/learn/profile.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sluice::learn {
namespace {

TEST(Profile, CountsNullsMomentsAndDeciles) {
  // Column 1 of 12 rows: 0..9 and two NaNs.
  std::vector<float> v;
  for (int i = 0; i < 12; ++i) {
    v.push_back(-1);
    v.push_back(i < 10 ? static_cast<float>(i) : NAN);
  }
  ColumnProfile p = ProfileColumn("x", v.data(), 12, 2, 1);
  EXPECT_EQ(p.count, 10u);
  EXPECT_EQ(p.nulls, 2u);
  EXPECT_DOUBLE_EQ(p.mean, 4.5);
  EXPECT_NEAR(p.stddev, 3.0276503540974917, 1e-12);  // sample standard deviation of 0..9
  EXPECT_EQ(p.min, 0);
  EXPECT_EQ(p.max, 9);
  ASSERT_EQ(p.edges.size(), 11u);
  EXPECT_NEAR(p.edges[1], 0.9, 1e-12);  // numpy.quantile(range(10), 0.1)
  // Bin i is [edges[i], edges[i+1]), the last one closed: each holds exactly one of 0..9.
  ASSERT_EQ(p.bins.size(), 10u);
  for (double b : p.bins) EXPECT_DOUBLE_EQ(b, 0.1);
}

TEST(Profile, ConstantColumnHasOneBin) {
  const float v[] = {2, 2, 2};
  ColumnProfile p = ProfileColumn("c", v, 3, 1, 0);
  EXPECT_EQ(p.edges, std::vector<double>{2});
  EXPECT_EQ(p.bins, std::vector<double>{1.0});
}

TEST(Profile, JsonNamesEveryColumnAndWritesNullForEmpty) {
  const float v[] = {NAN};
  const std::string j = ProfileJson(1, {ProfileColumn("a\"b", v, 1, 1, 0)});
  EXPECT_EQ(j,
            "{\"rows\":1,\"columns\":[{\"name\":\"a\\\"b\",\"count\":0,\"nulls\":1,\"mean\":null,"
            "\"stddev\":null,\"min\":null,\"max\":null,\"edges\":[],\"bins\":[]}]}");
}

}  // namespace
}  // namespace sluice::learn
