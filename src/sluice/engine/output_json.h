#pragma once
// One output record of the streaming engine (SPEC.md §4 "Output JSONL"):
//   {"event_id":..,"event_time":..,"model":"fraud","model_version":3,"score":0.0123,"features":{..}}
// event_id only when the spec names one; model, model_version and score(s) only with a model
// (model_version null for a model given as a file; a multi-class model writes score_0..score_K-1);
// features when output.include_features is set, or when there is no model (else the record would
// say nothing). Numbers round-trip; null for null.
#include <string>

#include "sluice/core/time.h"
#include "sluice/core/value.h"
#include "sluice/engine/scoring.h"
#include "sluice/spec/pipeline.h"

namespace sluice::engine {

void AppendOutputJson(const spec::Pipeline& p, const ScoringModel* model, bool include_features,
                      const core::Value* fields, core::EventTime time, const double* features,
                      const double* scores, std::string* out);

}  // namespace sluice::engine
