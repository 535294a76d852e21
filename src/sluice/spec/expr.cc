#include "sluice/spec/expr.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sluice::spec {

using core::Result;
using core::Status;

namespace {

struct Token {
  enum class Kind { kNumber, kIdent, kOp, kEnd } kind;
  std::string text;
  double number = 0;
  int column = 0;
};

Result<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    int col = static_cast<int>(i) + 1;
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      double v = 0;
      auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
      if (ec != std::errc())
        return Status::InvalidArgument("column " + std::to_string(col) + ": bad number");
      size_t n = p - (s.data() + i);
      out.push_back({Token::Kind::kNumber, std::string(s.substr(i, n)), v, col});
      i += n;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Token::Kind::kIdent, std::string(s.substr(i, j - i)), 0, col});
      i = j;
    } else {
      static const char* kTwo[] = {"&&", "||", "==", "!=", "<=", ">="};
      std::string op(1, c);
      for (const char* t : kTwo) {
        if (s.substr(i, 2) == t) op = t;
      }
      if (op.size() == 1 && std::string_view("+-*/%<>!(),").find(c) == std::string_view::npos) {
        return Status::InvalidArgument("column " + std::to_string(col) +
                                       ": unexpected character '" + op + "'");
      }
      out.push_back({Token::Kind::kOp, op, 0, col});
      i += op.size();
    }
  }
  out.push_back({Token::Kind::kEnd, "", 0, static_cast<int>(s.size()) + 1});
  return out;
}

// Precedence climbing over binary operators; levels from lowest to highest.
class Parser {
 public:
  explicit Parser(std::vector<Token> t) : toks_(std::move(t)) {}

  Result<ExprNode> Parse() {
    auto e = Binary(0);
    if (!e.ok()) return e;
    if (Peek().kind != Token::Kind::kEnd) return Fail("unexpected '" + Peek().text + "'");
    return e;
  }

 private:
  static int Level(const std::string& op) {
    if (op == "||") return 0;
    if (op == "&&") return 1;
    if (op == "==" || op == "!=") return 2;
    if (op == "<" || op == "<=" || op == ">" || op == ">=") return 3;
    if (op == "+" || op == "-") return 4;
    if (op == "*" || op == "/" || op == "%") return 5;
    return -1;
  }
  const Token& Peek() const { return toks_[pos_]; }
  Status Fail(const std::string& msg) const {
    return Status::InvalidArgument("column " + std::to_string(Peek().column) + ": " + msg);
  }

  static constexpr int kMaxDepth = kMaxExprNesting;
  struct DepthGuard {
    explicit DepthGuard(int* d) : d_(d) { ++*d_; }
    ~DepthGuard() { --*d_; }
    int* d_;
  };

  Result<ExprNode> Binary(int level) {
    if (level == 0) {
      DepthGuard guard(&depth_);
      if (depth_ > kMaxDepth) return Fail("expression nested too deeply (more than 256 levels)");
      return BinaryAt(0);
    }
    return BinaryAt(level);
  }

  Result<ExprNode> BinaryAt(int level) {
    if (level > 5) return Unary();
    auto lhs = Binary(level + 1);
    if (!lhs.ok()) return lhs;
    while (Peek().kind == Token::Kind::kOp && Level(Peek().text) == level) {
      ExprNode n;
      n.kind = ExprNode::Kind::kBinary;
      n.name = Peek().text;
      n.column = Peek().column;
      ++pos_;
      auto rhs = Binary(level + 1);
      if (!rhs.ok()) return rhs;
      n.depth = 1 + std::max(lhs->depth, rhs->depth);
      if (n.depth > kMaxExprDepth)
        return Fail("expression too deep (a tree of more than 1000 levels)");
      n.args.push_back(std::move(lhs.value()));
      n.args.push_back(std::move(rhs.value()));
      lhs = std::move(n);
    }
    return lhs;
  }

  Result<ExprNode> Unary() {
    const Token& t = Peek();
    if (t.kind == Token::Kind::kOp && (t.text == "-" || t.text == "!" || t.text == "+")) {
      DepthGuard guard(&depth_);
      if (depth_ > kMaxDepth) return Fail("expression nested too deeply (more than 256 levels)");
      ExprNode n;
      n.kind = ExprNode::Kind::kUnary;
      n.name = t.text == "-" ? "neg" : t.text;
      n.column = t.column;
      ++pos_;
      auto operand = Unary();
      if (!operand.ok()) return operand;
      if (n.name == "+") return operand;
      n.depth = 1 + operand->depth;
      n.args.push_back(std::move(operand.value()));
      return n;
    }
    return Primary();
  }

  Result<ExprNode> Call(ExprNode fn) {
    ++pos_;  // '('
    fn.kind = ExprNode::Kind::kCall;
    if (!(Peek().kind == Token::Kind::kOp && Peek().text == ")")) {
      while (true) {
        auto arg = Binary(0);
        if (!arg.ok()) return arg;
        fn.depth = std::max(fn.depth, 1 + arg->depth);
        if (fn.args.size() >= 1000) return Fail("too many arguments (at most 1000)");
        fn.args.push_back(std::move(arg.value()));
        if (Peek().kind == Token::Kind::kOp && Peek().text == ",") {
          ++pos_;
          continue;
        }
        break;
      }
    }
    if (!(Peek().kind == Token::Kind::kOp && Peek().text == ")"))
      return Fail("expected ',' or ')'");
    ++pos_;
    int lo, hi;
    if (!FunctionArity(fn.name, &lo, &hi)) {
      return Status::InvalidArgument("column " + std::to_string(fn.column) +
                                     ": unknown function '" + fn.name + "'");
    }
    int n = static_cast<int>(fn.args.size());
    if (n < lo || (hi >= 0 && n > hi)) {
      return Status::InvalidArgument(
          "column " + std::to_string(fn.column) + ": " + fn.name + "() takes " +
          (lo == hi ? std::to_string(lo) : std::to_string(lo) + " or more") + " arguments, got " +
          std::to_string(n));
    }
    return fn;
  }

  Result<ExprNode> Primary() {
    const Token& t = Peek();
    ExprNode n;
    n.column = t.column;
    if (t.kind == Token::Kind::kNumber) {
      n.kind = ExprNode::Kind::kNumber;
      n.number = t.number;
      ++pos_;
      return n;
    }
    if (t.kind == Token::Kind::kIdent) {
      n.kind = ExprNode::Kind::kIdent;
      n.name = t.text;
      ++pos_;
      if (Peek().kind == Token::Kind::kOp && Peek().text == "(") return Call(std::move(n));
      return n;
    }
    if (t.kind == Token::Kind::kOp && t.text == "(") {
      ++pos_;
      auto e = Binary(0);
      if (!e.ok()) return e;
      if (!(Peek().kind == Token::Kind::kOp && Peek().text == ")")) return Fail("expected ')'");
      ++pos_;
      return e;
    }
    if (t.kind == Token::Kind::kEnd) return Fail("expression ends too early");
    return Fail("unexpected '" + t.text + "'");
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

bool FunctionArity(const std::string& name, int* lo, int* hi) {
  struct F {
    const char* name;
    int lo, hi;
  };
  static const F kFns[] = {{"if", 3, 3},   {"coalesce", 1, -1}, {"is_null", 1, 1},  {"abs", 1, 1},
                           {"log", 1, 1},  {"log1p", 1, 1},     {"exp", 1, 1},      {"sqrt", 1, 1},
                           {"pow", 2, 2},  {"min", 1, -1},      {"max", 1, -1},     {"clamp", 3, 3},
                           {"hour", 1, 1}, {"dayofweek", 1, 1}, {"haversine", 4, 4}};
  for (const F& f : kFns) {
    if (name == f.name) {
      *lo = f.lo;
      *hi = f.hi;
      return true;
    }
  }
  return false;
}

Result<ExprNode> ParseExpr(std::string_view text) {
  auto toks = Lex(text);
  if (!toks.ok()) return toks.status();
  return Parser(std::move(toks.value())).Parse();
}

void CollectIdents(const ExprNode& node, std::vector<std::string>* out) {
  if (node.kind == ExprNode::Kind::kIdent) {
    for (const auto& s : *out) {
      if (s == node.name) return;
    }
    out->push_back(node.name);
    return;
  }
  for (const auto& a : node.args) CollectIdents(a, out);
}

}  // namespace sluice::spec
