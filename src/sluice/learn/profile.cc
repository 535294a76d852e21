#include "sluice/learn/profile.h"

#include <algorithm>
#include <cmath>

#include "sluice/core/number_format.h"
#include "sluice/io/json_writer.h"

namespace sluice::learn {
namespace {

// The q-quantile of sorted values by linear interpolation (numpy's default).
double Quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

void AppendNumber(std::string* out, double v) {
  if (std::isfinite(v)) {
    core::AppendDouble(v, out);
  } else {
    out->append("null");
  }
}

void AppendArray(std::string* out, const std::vector<double>& v) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out->push_back(',');
    AppendNumber(out, v[i]);
  }
  out->push_back(']');
}

}  // namespace

ColumnProfile ProfileColumn(std::string name, const float* values, size_t rows, size_t stride,
                            size_t column) {
  ColumnProfile p;
  p.name = std::move(name);
  std::vector<double> v;
  v.reserve(rows);
  for (size_t r = 0; r < rows; ++r) {
    const float x = values[r * stride + column];
    if (std::isnan(x)) {
      ++p.nulls;
    } else {
      v.push_back(x);
    }
  }
  p.count = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - p.mean) * (x - p.mean);
  p.stddev = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
  p.min = v.front();
  p.max = v.back();
  for (int q = 0; q <= 10; ++q) {
    const double e = Quantile(v, q / 10.0);
    if (p.edges.empty() || e > p.edges.back()) p.edges.push_back(e);
  }
  if (p.edges.size() == 1) {  // a constant column: one closed bin
    p.bins = {1.0};
    return p;
  }
  p.bins.assign(p.edges.size() - 1, 0.0);
  for (double x : v) {
    // Bin i holds [edges[i], edges[i+1]); the last one also holds max.
    size_t i = std::upper_bound(p.edges.begin(), p.edges.end(), x) - p.edges.begin();
    i = std::min(i == 0 ? 0 : i - 1, p.bins.size() - 1);
    p.bins[i] += 1;
  }
  for (double& b : p.bins) b /= static_cast<double>(v.size());
  return p;
}

std::string ProfileJson(size_t rows, const std::vector<ColumnProfile>& columns) {
  std::string out = "{\"rows\":" + std::to_string(rows) + ",\"columns\":[";
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnProfile& c = columns[i];
    if (i) out.push_back(',');
    out.append("{\"name\":");
    io::AppendJsonString(c.name, &out);
    out.append(",\"count\":" + std::to_string(c.count) + ",\"nulls\":" + std::to_string(c.nulls));
    const bool any = c.count > 0;
    const std::pair<const char*, double> stats[] = {
        {"mean", c.mean}, {"stddev", c.stddev}, {"min", c.min}, {"max", c.max}};
    for (const auto& [key, value] : stats) {
      out.append(",\"").append(key).append("\":");
      AppendNumber(&out, any ? value : NAN);
    }
    out.append(",\"edges\":");
    AppendArray(&out, c.edges);
    out.append(",\"bins\":");
    AppendArray(&out, c.bins);
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

}  // namespace sluice::learn
