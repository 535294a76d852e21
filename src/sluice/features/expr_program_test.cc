#include "sluice/features/expr_program.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sluice::features {
namespace {

// Evaluates `expr` with fields a, b (doubles; NaN = null) and the time field ts in seconds.
double Eval(const std::string& expr, double a, double b, double ts = 0) {
  std::string text =
      "name: t\nevent_time: {field: ts, unit: s}\nfields: {a: double, b: double, k: string}\n"
      "features:\n  - {name: c, agg: count, key: k}\n  - {name: x, expr: \"" +
      expr + "\"}\n";
  auto p = spec::ParsePipeline(text, "t.yaml");
  EXPECT_TRUE(p.ok()) << p.status().message();
  ExprSet set;
  EXPECT_TRUE(set.Compile(*p).ok());
  std::vector<core::Value> fields(p->schema.size());
  fields[0] = core::Value::Double(a);
  fields[1] = core::Value::Double(b);
  double row[2] = {3, 0};
  std::vector<double> stack(set.max_depth() + 1);
  set.Evaluate(row, fields.data(), ts, stack.data());
  return row[1];
}

TEST(ExprProgram, Arithmetic) {
  EXPECT_EQ(Eval("a + b * 2", 1, 3), 7);
  EXPECT_EQ(Eval("(a + b) * 2", 1, 3), 8);
  EXPECT_EQ(Eval("a / b", 1, 4), 0.25);
  EXPECT_EQ(Eval("-a % 3", 7, 0), -1);
  EXPECT_EQ(Eval("c * 2", 0, 0), 6);
}

TEST(ExprProgram, NullRules) {
  EXPECT_TRUE(std::isnan(Eval("a + 1", NAN, 0)));
  EXPECT_TRUE(std::isnan(Eval("a / b", 1, 0)));
  EXPECT_TRUE(std::isnan(Eval("a % b", 1, 0)));
  EXPECT_TRUE(std::isnan(Eval("log(a)", 0, 0)));
  EXPECT_TRUE(std::isnan(Eval("sqrt(a)", -1, 0)));
  EXPECT_TRUE(std::isnan(Eval("a > 1 && b > 1", NAN, 5)));
  EXPECT_EQ(Eval("coalesce(a, b, 9)", NAN, NAN), 9);
  EXPECT_EQ(Eval("is_null(a)", NAN, 0), 1);
  EXPECT_EQ(Eval("if(a > 0, b, 5)", -1, NAN), 5);  // untaken null branch does not propagate
  EXPECT_TRUE(std::isnan(Eval("if(a > 0, b, 5)", NAN, 1)));
  EXPECT_TRUE(std::isnan(Eval("exp(a)", 1000, 0)));  // overflow is null
}

TEST(ExprProgram, Functions) {
  EXPECT_EQ(Eval("min(a, b, 0)", 3, -2), -2);
  EXPECT_EQ(Eval("max(a, b)", 3, -2), 3);
  EXPECT_EQ(Eval("clamp(a, 0, 10)", 12, 0), 10);
  EXPECT_EQ(Eval("pow(a, b)", 2, 10), 1024);
  EXPECT_EQ(Eval("abs(a)", -2.5, 0), 2.5);
  EXPECT_EQ(Eval("hour(ts)", 0, 0, 1700000000), 22);      // 2023-11-14T22:13:20Z
  EXPECT_EQ(Eval("dayofweek(ts)", 0, 0, 1700000000), 1);  // a Tuesday
  EXPECT_EQ(Eval("dayofweek(ts)", 0, 0, 0), 3);           // 1970-01-01, a Thursday
  EXPECT_NEAR(Eval("haversine(a, 0, b, 0)", 0, 1), 111.195, 1e-3);
  EXPECT_EQ(Eval("a == b || !(a < b)", 2, 2), 1);
}

}  // namespace
}  // namespace sluice::features
