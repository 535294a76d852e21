#pragma once
// A pipeline's features compiled for execution: key spaces, the window groups inside each (one
// per distinct window shape, shared by all features of that shape), the partial layout of each
// group, and the expression programs. Built once per pipeline; immutable and shared by shards.
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/features/expr_program.h"
#include "sluice/features/ops.h"
#include "sluice/spec/pipeline.h"

namespace sluice::features {

enum class GroupKind { kTime, kUnbounded, kBucket, kRows };

// A value column of a group's stored events.
struct ColumnDef {
  enum class Kind { kNumber, kToken, kPresence } kind;  // presence: 1.0 or NaN
  int field;
  int slot;  // first slot; tokens take two
};

struct GroupFeature {
  int feature;  // index in the pipeline's features (= output position)
  spec::AggKind agg;
  bool exclude_current;
  int op = -1;        // index into the group's ops
  int distinct = -1;  // index into GroupDef::distinct
};

struct GroupDef {
  GroupKind kind = GroupKind::kTime;
  int64_t window_us = 0;
  int64_t resolution_us = 0;
  int64_t rows = 0;  // rows kept before the current event (N, or N-1 when it is included)
  std::vector<ColumnDef> columns;
  int num_slots = 0;
  Ops ops;
  std::vector<ColumnDef> distinct;  // the columns count_distinct reads
  std::vector<GroupFeature> features;
  bool any_included = false;  // some feature includes the current event
};

struct KeySpaceDef {
  std::vector<int> fields;  // schema indexes
  std::string name;         // "user_id" or "user_id,merchant_id"
  std::vector<GroupDef> groups;
};

struct CompiledFeatures {
  const spec::Pipeline* pipeline = nullptr;
  std::vector<KeySpaceDef> key_spaces;
  std::vector<int> feature_key_space;  // per feature: its key space, -1 for expressions
  ExprSet expressions;
  int num_features = 0;
  int64_t lateness_us = 0;
  int64_t ttl_us = 0;
};

// `p` must outlive the result. Errors are spec errors (exit 2).
core::Result<std::unique_ptr<CompiledFeatures>> Compile(const spec::Pipeline& p);

}  // namespace sluice::features
