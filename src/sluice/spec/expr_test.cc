#include "sluice/spec/expr.h"

#include <gtest/gtest.h>

namespace sluice::spec {
namespace {

std::string Show(const ExprNode& n) {
  switch (n.kind) {
    case ExprNode::Kind::kNumber: {
      std::string s = std::to_string(n.number);
      return s.substr(0, s.find('.'));
    }
    case ExprNode::Kind::kIdent:
      return n.name;
    default: {
      std::string s = "(" + n.name;
      for (const auto& a : n.args) s += " " + Show(a);
      return s + ")";
    }
  }
}

TEST(Expr, Precedence) {
  EXPECT_EQ(Show(*ParseExpr("1 + 2 * 3")), "(+ 1 (* 2 3))");
  EXPECT_EQ(Show(*ParseExpr("a || b && c == d < e")), "(|| a (&& b (== c (< d e))))");
  EXPECT_EQ(Show(*ParseExpr("-a - -b")), "(- (neg a) (neg b))");
  EXPECT_EQ(Show(*ParseExpr("!(a > 1)")), "(! (> a 1))");
  EXPECT_EQ(Show(*ParseExpr("10 - 4 - 3")), "(- (- 10 4) 3)");
  EXPECT_EQ(Show(*ParseExpr("if(a, max(b, c, 2), coalesce(d))")),
            "(if a (max b c 2) (coalesce d))");
}

TEST(Expr, Errors) {
  EXPECT_NE(ParseExpr("1 +").status().message().find("ends too early"), std::string::npos);
  EXPECT_NE(ParseExpr("foo(1)").status().message().find("unknown function 'foo'"),
            std::string::npos);
  EXPECT_NE(ParseExpr("pow(1)").status().message().find("takes 2 arguments"), std::string::npos);
  EXPECT_NE(ParseExpr("a $ b").status().message().find("column 3"), std::string::npos);
  EXPECT_FALSE(ParseExpr("(a").ok());
  EXPECT_FALSE(ParseExpr("a b").ok());
  EXPECT_FALSE(ParseExpr("").ok());
  EXPECT_NE(ParseExpr(std::string(5000, '(') + "1" + std::string(5000, ')'))
                .status()
                .message()
                .find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(ParseExpr(std::string(5000, '-') + "1").status().message().find("nested too deeply"),
            std::string::npos);
  EXPECT_TRUE(ParseExpr(std::string(100, '(') + "1" + std::string(100, ')')).ok());
  std::string chain = "a";
  for (int i = 0; i < 100000; ++i) chain += "+a";
  EXPECT_NE(ParseExpr(chain).status().message().find("too deep"), std::string::npos);
  std::string ok_chain = "a";
  for (int i = 0; i < 500; ++i) ok_chain += "+a";
  EXPECT_TRUE(ParseExpr(ok_chain).ok());
}

}  // namespace
}  // namespace sluice::spec
