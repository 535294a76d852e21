// Fuzzes spec::ParseExpr. Errors must be Statuses with a message (they name the column); a tree
// that parses must be well formed: operators have their operand counts, calls name a known
// function with an accepted number of arguments (the parser checks arity), columns lie in the text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "sluice/spec/expr.h"

namespace {

using sluice::spec::ExprNode;

void CheckNode(const ExprNode& n, std::string_view text) {
  switch (n.kind) {
    case ExprNode::Kind::kNumber:
      if (!n.args.empty()) sluice::fuzz::Fail("number node with children", text);
      break;
    case ExprNode::Kind::kIdent:
      if (n.name.empty() || !n.args.empty()) sluice::fuzz::Fail("malformed identifier node", text);
      break;
    case ExprNode::Kind::kUnary:
      if (n.args.size() != 1) sluice::fuzz::Fail("unary node without exactly one operand", text);
      break;
    case ExprNode::Kind::kBinary:
      if (n.args.size() != 2) sluice::fuzz::Fail("binary node without exactly two operands", text);
      break;
    case ExprNode::Kind::kCall: {
      int lo = 0, hi = 0;
      if (!sluice::spec::FunctionArity(n.name, &lo, &hi))
        sluice::fuzz::Fail("call of an unknown function", text);
      const int argc = static_cast<int>(n.args.size());
      if (argc < lo || (hi >= 0 && argc > hi))
        sluice::fuzz::Fail("call with a wrong number of arguments", text);
    } break;
  }
  if (n.column < 1 || n.column > static_cast<int>(text.size()) + 1)
    sluice::fuzz::Fail("node column outside the text", text);
}

// Every node's `depth` is its subtree's height (later passes rely on it to bound recursion), and
// no accepted tree is taller than kMaxExprDepth.
void CheckDepth(const ExprNode& n, std::string_view text) {
  int want = 1;
  for (const auto& a : n.args) want = std::max(want, a.depth + 1);
  if (n.depth != want) sluice::fuzz::Fail("node depth is not its subtree's height", text);
  if (n.depth > sluice::spec::kMaxExprDepth)
    sluice::fuzz::Fail("accepted a tree taller than the bound", text);
}

// Iterative, so that the harness itself survives trees of any depth (a long chain `a+a+...+a`
// parses without recursion but gives a left-deep tree). Returns the identifiers in first-use
// order of a left-to-right walk, which is what CollectIdents must report.
std::vector<std::string> Walk(const ExprNode& root, std::string_view text) {
  std::vector<std::string> idents;
  std::vector<const ExprNode*> stack = {&root};
  while (!stack.empty()) {
    const ExprNode* n = stack.back();
    stack.pop_back();
    CheckNode(*n, text);
    CheckDepth(*n, text);
    if (n->kind == ExprNode::Kind::kIdent &&
        std::find(idents.begin(), idents.end(), n->name) == idents.end()) {
      idents.push_back(n->name);
    }
    for (auto it = n->args.rbegin(); it != n->args.rend(); ++it)
      stack.push_back(&*it);  // left first
  }
  return idents;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = sluice::spec::ParseExpr(text);
  if (!r.ok()) {
    if (r.status().message().empty())
      sluice::fuzz::Fail("expression error without a message", text);
    return 0;
  }
  const std::vector<std::string> walked = Walk(*r, text);
  std::vector<std::string> idents;
  sluice::spec::CollectIdents(*r, &idents);
  if (idents != walked) sluice::fuzz::Fail("CollectIdents disagrees with a walk of the tree", text);
  return 0;
}
