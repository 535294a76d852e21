#pragma once
// The evaluators behind Model: each adds the raw margins of a block of rows. Internal.
#include <cstddef>
#include <memory>

#include "sluice/core/status.h"
#include "sluice/models/model_spec.h"

namespace sluice::models {

// Rows per block: the accumulators of one block (rows x groups floats) live on the stack.
inline constexpr size_t kBlockFloats = 4096;
inline constexpr size_t kMaxBlockRows = 64;

// Immutable after construction; AddMargins is const, allocation-free and thread-safe.
class Scorer {
 public:
  virtual ~Scorer() = default;
  // acc holds n x groups floats (row-major), already set to the base margin; adds each row's
  // margins in xgboost's order. n <= kMaxBlockRows and n x groups <= kBlockFloats.
  virtual void AddMargins(const float* rows, size_t n, size_t stride, float* acc) const = 0;
};

// Tree ensembles (gbtree, dart) and linear models (gblinear), built from a checked spec.
core::Result<std::unique_ptr<const Scorer>> BuildForest(const ModelSpec& spec);
std::unique_ptr<const Scorer> BuildLinear(const ModelSpec& spec);

}  // namespace sluice::models
