#pragma once
// The reference profile of a training set: per column (every model input, and the model's
// scores) its count, nulls, mean, standard deviation, range, deciles and the share of values in
// each decile bin. Drift monitoring compares live traffic with it (PSI over the same bins, KS
// against the quantiles), the way Evidently compares a current window with a reference dataset.
// Thread-safe: pure functions and plain values.
#include <cstddef>
#include <string>
#include <vector>

namespace sluice::learn {

struct ColumnProfile {
  std::string name;
  size_t count = 0;  // non-null values
  size_t nulls = 0;  // null or NaN
  double mean = 0, stddev = 0, min = 0, max = 0;
  std::vector<double> edges;  // deciles: edges[0] = min, edges.back() = max (duplicates removed)
  std::vector<double> bins;   // share of non-null values in [edges[i], edges[i+1]); last bin closed
};

// `values` holds `rows` rows of `stride` floats; the column is at `column`. NaN is null.
ColumnProfile ProfileColumn(std::string name, const float* values, size_t rows, size_t stride,
                            size_t column);

// {"rows":N,"columns":[{"name":..,"count":..,"nulls":..,"mean":..,"stddev":..,"min":..,"max":..,
//   "edges":[..],"bins":[..]},..]} — numbers round-trip; null for undefined values.
std::string ProfileJson(size_t rows, const std::vector<ColumnProfile>& columns);

}  // namespace sluice::learn
