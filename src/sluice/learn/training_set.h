#pragma once
// A training set read from a backfill CSV (SPEC.md §4): the model inputs of every labelled row,
// its label and its event time, so a holdout can be cut by time. Rows whose label cell is empty
// (not yet known at the end of the data) are skipped and counted.
// Thread-compatible: a plain value.
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/spec/pipeline.h"

namespace sluice::learn {

struct TrainingSet {
  std::vector<std::string> inputs;
  std::vector<float> x;          // rows × inputs, row-major; NaN = missing
  std::vector<float> y;          // label per row
  std::vector<int64_t> time_us;  // event time per row
  int64_t unlabelled = 0;        // rows skipped for an empty label
  size_t rows() const { return y.size(); }
};

// Reads `csv` (a backfill of `p`). `inputs` empty means every feature of the spec, in spec order.
// Errors (exit 2 for the caller): a missing column, a cell that is not a number, a bad time.
core::Result<TrainingSet> LoadTrainingSet(const spec::Pipeline& p, const std::string& csv,
                                          const std::string& label,
                                          std::vector<std::string> inputs);

// Row indexes split by event time: the latest `holdout_fraction` of rows (ties in file order) go
// to `holdout`, the rest to `train`; both keep time order.
void SplitByTime(const TrainingSet& t, double holdout_fraction, std::vector<size_t>* train,
                 std::vector<size_t>* holdout);

}  // namespace sluice::learn
