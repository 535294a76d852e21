#pragma once
// The backfill CSV (SPEC.md §4): header and rows. Null is an empty cell; numbers print in their
// shortest round-trip form, so they parse back to the same double.
#include <string>
#include <vector>

#include "sluice/core/time.h"
#include "sluice/core/value.h"
#include "sluice/spec/pipeline.h"

namespace sluice::engine {

// `scores` are the model's score columns (none without a model); they follow the features.
void AppendHeader(const spec::Pipeline& p, const std::vector<std::string>& scores, bool with_label,
                  std::string* out);
// One row without the label column, ending in a newline. `features` holds every feature, then
// `num_scores` scores (NaN = null).
void AppendRow(const spec::Pipeline& p, const core::Value* fields, core::EventTime time,
               const double* features, size_t num_features, const double* scores,
               size_t num_scores, std::string* out);
void AppendCsvCell(std::string_view text, std::string* out);

}  // namespace sluice::engine
