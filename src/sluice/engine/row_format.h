#pragma once
// The backfill CSV (SPEC.md §4): header and rows. Null is an empty cell; numbers print in their
// shortest round-trip form, so they parse back to the same double.
#include <string>

#include "sluice/core/time.h"
#include "sluice/core/value.h"
#include "sluice/spec/pipeline.h"

namespace sluice::engine {

void AppendHeader(const spec::Pipeline& p, bool with_label, std::string* out);
// One row without the label column, ending in a newline. `features` holds every feature (NaN =
// null).
void AppendRow(const spec::Pipeline& p, const core::Value* fields, core::EventTime time,
               const double* features, size_t num_features, std::string* out);
void AppendCsvCell(std::string_view text, std::string* out);

}  // namespace sluice::engine
