#include "sluice/engine/output_json.h"

#include <cmath>

#include "sluice/core/number_format.h"
#include "sluice/io/json_writer.h"

namespace sluice::engine {
namespace {

void AppendNumber(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("null");
  } else {
    core::AppendDouble(v, out);
  }
}

void AppendValue(const core::Value& v, std::string* out) {
  switch (v.kind) {
    case core::Value::Kind::kString:
      io::AppendJsonString(v.s, out);
      break;
    case core::Value::Kind::kInt:
      core::AppendInt(v.i, out);
      break;
    case core::Value::Kind::kNull:
      out->append("null");
      break;
    default:
      AppendNumber(v.AsDouble(), out);
  }
}

void AppendTimeJson(const spec::Pipeline& p, core::EventTime t, std::string* out) {
  if (p.time_unit != core::TimeUnit::kIso8601) {
    core::AppendTime(t, p.time_unit, out);
    return;
  }
  std::string text;
  core::AppendTime(t, p.time_unit, &text);
  io::AppendJsonString(text, out);
}

}  // namespace

void AppendOutputJson(const spec::Pipeline& p, const ScoringModel* model, bool include_features,
                      const core::Value* fields, core::EventTime time, const double* features,
                      const double* scores, std::string* out) {
  out->push_back('{');
  if (p.event_id_index >= 0) {
    out->append("\"event_id\":");
    AppendValue(fields[p.event_id_index], out);
    out->push_back(',');
  }
  out->append("\"event_time\":");
  AppendTimeJson(p, time, out);
  if (model) {
    out->append(",\"model\":");
    io::AppendJsonString(model->name(), out);
    out->append(",\"model_version\":");
    if (model->version() > 0) {
      core::AppendInt(model->version(), out);
    } else {
      out->append("null");
    }
    for (size_t k = 0; k < model->num_outputs(); ++k) {
      out->append(",\"").append(model->columns()[k]).append("\":");
      AppendNumber(scores[k], out);
    }
  }
  if (include_features || !model) {
    out->append(",\"features\":{");
    for (size_t f = 0; f < p.features.size(); ++f) {
      if (f) out->push_back(',');
      io::AppendJsonString(p.features[f].name, out);
      out->push_back(':');
      AppendNumber(features[f], out);
    }
    out->push_back('}');
  }
  out->append("}\n");
}

}  // namespace sluice::engine
