#include "sluice/engine/row_format.h"

#include <algorithm>
#include <cmath>

#include "sluice/core/number_format.h"

namespace sluice::engine {

void AppendCsvCell(std::string_view text, std::string* out) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(text);
    return;
  }
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendHeader(const spec::Pipeline& p, const std::vector<std::string>& scores, bool with_label,
                  std::string* out) {
  if (!p.event_id.empty()) {
    AppendCsvCell(p.event_id, out);
    out->push_back(',');
  }
  AppendCsvCell(p.time_field, out);
  for (const auto& f : p.features) {
    out->push_back(',');
    out->append(f.name);
  }
  for (const auto& s : scores) {
    out->push_back(',');
    out->append(s);
  }
  if (with_label) {
    out->push_back(',');
    AppendCsvCell(p.labels->label, out);
  }
  out->push_back('\n');
}

namespace {

// Cells through a stack buffer and one append: per-cell appends cost more than the digits.
void AppendCells(const double* v, size_t n, std::string* out) {
  char buf[64 * (core::kMaxDoubleChars + 1)];
  for (size_t start = 0; start < n; start += 64) {
    const size_t end = std::min(n, start + 64);
    char* q = buf;
    for (size_t i = start; i < end; ++i) {
      *q++ = ',';
      if (!std::isnan(v[i])) q = core::WriteDouble(v[i], q);
    }
    out->append(buf, q);
  }
}

}  // namespace

void AppendRow(const spec::Pipeline& p, const core::Value* fields, core::EventTime time,
               const double* features, size_t num_features, const double* scores,
               size_t num_scores, std::string* out) {
  if (p.event_id_index >= 0) {
    const core::Value& id = fields[p.event_id_index];
    if (id.kind == core::Value::Kind::kString)
      AppendCsvCell(id.s, out);
    else if (id.kind == core::Value::Kind::kInt)
      core::AppendInt(id.i, out);
    else if (!id.is_null())
      core::AppendDouble(id.AsDouble(), out);
    out->push_back(',');
  }
  core::AppendTime(time, p.time_unit, out);
  AppendCells(features, num_features, out);
  AppendCells(scores, num_scores, out);
  out->push_back('\n');
}

}  // namespace sluice::engine
