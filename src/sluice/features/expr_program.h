#pragma once
// Expression features compiled to postfix programs over doubles, NaN standing for null
// (docs/semantics.md). Compiled once; evaluation touches only a caller-provided stack, so it
// never allocates. Programs run in dependency order. Immutable; Evaluate is thread-safe with a
// stack per thread.
#include <cstdint>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/core/value.h"
#include "sluice/spec/expr.h"
#include "sluice/spec/pipeline.h"

namespace sluice::features {

enum class Instr : uint8_t {
  kConst,
  kField,
  kTime,
  kFeature,
  kNeg,
  kNot,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kLt,
  kLe,
  kGt,
  kGe,
  kEq,
  kNe,
  kAnd,
  kOr,
  kIf,
  kCoalesce,
  kIsNull,
  kAbs,
  kLog,
  kLog1p,
  kExp,
  kSqrt,
  kPow,
  kMin,
  kMax,
  kClamp,
  kHour,
  kDayOfWeek,
  kHaversine,
};

struct Step {
  Instr op;
  int arg = 0;       // field/feature index, or argument count for variadic functions
  double value = 0;  // constant
};

struct Program {
  int feature;  // output position
  std::vector<Step> steps;
  int max_depth = 0;
};

class ExprSet {
 public:
  core::Status Compile(const spec::Pipeline& p);
  bool empty() const { return programs_.empty(); }
  int max_depth() const { return max_depth_; }
  // Fills the expression features of `row` (aggregations must already be there).
  // `time_in_unit` is the event time in the spec's unit (seconds for iso8601).
  void Evaluate(double* row, const core::Value* fields, double time_in_unit, double* stack) const;

 private:
  core::Status CompileNode(const spec::Pipeline& p, const spec::ExprNode& n, Program* out,
                           int depth);
  std::vector<Program> programs_;  // in dependency order
  int max_depth_ = 0;
  double unit_seconds_ = 1;  // seconds per unit of the event-time field
};

}  // namespace sluice::features
