#pragma once
// The expression language of `expr:` features (docs/semantics.md): text -> syntax tree.
// The features module compiles the tree into a program that evaluates without allocating.
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/status.h"

namespace sluice::spec {

struct ExprNode {
  enum class Kind { kNumber, kIdent, kUnary, kBinary, kCall };
  Kind kind = Kind::kNumber;
  double number = 0;
  std::string name;  // identifier, operator ("+", "&&", "!", "neg") or function name
  std::vector<ExprNode> args;
  int column = 0;  // 1-based, for messages
  int depth = 1;   // height of this subtree; later passes recurse over the tree
};

// Bounds that keep every recursive pass over an expression well inside the stack: nesting of
// parentheses and unary operators while parsing, and the height of the resulting tree (a long
// chain like a+a+...+a is parsed in a loop but builds a tall tree).
inline constexpr int kMaxExprNesting = 256;
inline constexpr int kMaxExprDepth = 1000;

// Parses `text`; errors say the column and what was expected.
core::Result<ExprNode> ParseExpr(std::string_view text);

// Identifiers the tree references, in first-use order.
void CollectIdents(const ExprNode& node, std::vector<std::string>* out);

// Arity of a known function: min and max argument count (max -1 = unbounded). False if unknown.
bool FunctionArity(const std::string& name, int* min_args, int* max_args);

}  // namespace sluice::spec
