#include "sluice/models/linear_model.h"

#include <simdjson.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <set>

#include "sluice/models/file_util.h"
#include "sluice/models/json_text.h"

namespace sluice::models {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

core::Status Bad(std::string_view origin, const std::string& msg) {
  return core::Status::InvalidArgument(std::string(origin) + ": " + msg);
}

// Reads a number member that JSON may spell as an integer or a double.
bool ReadNumber(element e, double* out) {
  switch (e.type()) {
    case element_type::DOUBLE:
      *out = e.get_double().value_unsafe();
      return true;
    case element_type::INT64:
      *out = static_cast<double>(e.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:
      *out = static_cast<double>(e.get_uint64().value_unsafe());
      return true;
    default:
      return false;
  }
}

struct Fields {
  std::string format, kind, metadata;
  int64_t version = -1;
  std::vector<std::string> inputs;
  std::vector<double> weights;
  double bias = 0;
  std::vector<std::string> seen;  // keys read so far: a key given twice is an error
};

core::Status ReadArrays(std::string_view key, element v, std::string_view origin, Fields* f) {
  simdjson::dom::array arr;
  if (v.get_array().get(arr)) return Bad(origin, "\"" + std::string(key) + "\" must be an array");
  for (element item : arr) {
    if (key == "inputs") {
      std::string_view s;
      if (item.get_string().get(s)) return Bad(origin, "\"inputs\" must hold strings");
      f->inputs.emplace_back(s);
    } else {
      double d;
      if (!ReadNumber(item, &d)) return Bad(origin, "\"weights\" must hold numbers");
      f->weights.push_back(d);
    }
  }
  return core::Status::Ok();
}

core::Status ReadMember(std::string_view key, element v, std::string_view origin, Fields* f) {
  for (const auto& k : f->seen) {
    if (k == key) return Bad(origin, "key \"" + std::string(key) + "\" appears twice");
  }
  f->seen.emplace_back(key);
  std::string_view s;
  if (key == "format" || key == "kind") {
    if (v.get_string().get(s)) return Bad(origin, "\"" + std::string(key) + "\" must be a string");
    (key == "format" ? f->format : f->kind) = std::string(s);
  } else if (key == "version") {
    if (v.get_int64().get(f->version)) return Bad(origin, "\"version\" must be an integer");
  } else if (key == "inputs" || key == "weights") {
    return ReadArrays(key, v, origin, f);
  } else if (key == "bias") {
    if (!ReadNumber(v, &f->bias)) return Bad(origin, "\"bias\" must be a number");
  } else if (key == "metadata") {
    if (v.type() != element_type::OBJECT) return Bad(origin, "\"metadata\" must be an object");
    f->metadata = simdjson::minify(v);
  } else {
    return Bad(origin, "unknown key \"" + std::string(key) + "\"");
  }
  return core::Status::Ok();
}

}  // namespace

// exp of minus |margin| never overflows; the sign picks p or 1 - p without a branch to mispredict.
double Sigmoid(double margin) {
  const double e = std::exp(-std::fabs(margin));
  const double r = 1.0 / (1.0 + e);
  return margin >= 0 ? r : e * r;
}

core::Result<LinearModel> LinearModel::Make(LinearKind kind, std::vector<std::string> inputs,
                                            std::vector<double> weights, double bias,
                                            std::string metadata_json) {
  if (inputs.size() != weights.size()) {
    return core::Status::InvalidArgument(std::to_string(inputs.size()) + " inputs but " +
                                         std::to_string(weights.size()) + " weights");
  }
  std::set<std::string_view> seen;
  for (const auto& name : inputs) {
    if (name.empty()) return core::Status::InvalidArgument("an input name is empty");
    if (!seen.insert(name).second)
      return core::Status::InvalidArgument("input \"" + name + "\" appears twice");
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!std::isfinite(weights[i]))
      return core::Status::InvalidArgument("weight of \"" + inputs[i] + "\" is not finite");
  }
  if (!std::isfinite(bias)) return core::Status::InvalidArgument("bias is not finite");
  LinearModel m;
  m.kind_ = kind;
  m.inputs_ = std::move(inputs);
  m.weights_ = std::move(weights);
  m.bias_ = bias;
  m.metadata_json_ = std::move(metadata_json);
  return m;
}

core::Result<LinearModel> LinearModel::Parse(std::string_view json, std::string_view origin) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  element doc;
  if (auto err = parser.parse(padded).get(doc))
    return Bad(origin, std::string("invalid JSON: ") + simdjson::error_message(err));
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return Bad(origin, "a model file is a JSON object");
  Fields f;
  for (auto [key, value] : obj) SLUICE_RETURN_IF_ERROR(ReadMember(key, value, origin, &f));
  if (f.format != kLinearFormat)
    return Bad(origin, "\"format\" must be \"" + std::string(kLinearFormat) + "\"");
  if (f.version != kLinearFormatVersion)
    return Bad(origin, "\"version\" must be " + std::to_string(kLinearFormatVersion));
  if (f.kind != "linear" && f.kind != "logistic")
    return Bad(origin, "\"kind\" must be \"linear\" or \"logistic\"");
  for (const char* required : {"inputs", "weights", "bias"}) {
    if (std::find(f.seen.begin(), f.seen.end(), required) == f.seen.end())
      return Bad(origin, "\"" + std::string(required) + "\" is missing");
  }
  auto m = Make(f.kind == "logistic" ? LinearKind::kLogistic : LinearKind::kLinear,
                std::move(f.inputs), std::move(f.weights), f.bias, std::move(f.metadata));
  if (!m.ok()) return m.status().WithContext(origin);
  return m;
}

core::Result<LinearModel> LinearModel::Load(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

std::string LinearModel::ToJson() const {
  std::string out = "{\"format\":";
  AppendJsonString(kLinearFormat, &out);
  out += ",\"version\":" + std::to_string(kLinearFormatVersion) + ",\"kind\":";
  out += kind_ == LinearKind::kLogistic ? "\"logistic\"" : "\"linear\"";
  out += ",\"inputs\":[";
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(inputs_[i], &out);
  }
  out += "],\"weights\":[";
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (i) out += ',';
    AppendJsonNumber(weights_[i], &out);
  }
  out += "],\"bias\":";
  AppendJsonNumber(bias_, &out);
  if (!metadata_json_.empty()) out += ",\"metadata\":" + metadata_json_;
  out += "}\n";
  return out;
}

core::Status LinearModel::Save(const std::string& path) const {
  return WriteFileAtomically(path, ToJson());
}

double LinearModel::Margin(std::span<const double> x) const {
  assert(x.size() == weights_.size());
  double m = bias_;
  for (size_t i = 0; i < weights_.size(); ++i) {
    const double v = x[i];
    m += v == v ? weights_[i] * v : 0.0;  // NaN (missing) adds nothing
  }
  return m;
}

double LinearModel::Predict(std::span<const double> x) const {
  const double m = Margin(x);
  return kind_ == LinearKind::kLogistic ? Sigmoid(m) : m;
}

void LinearModel::PredictBatch(std::span<const double> rows, std::span<double> out) const {
  const size_t width = weights_.size();
  const size_t n = width == 0 ? out.size() : rows.size() / width;
  assert(out.size() >= n);
  for (size_t r = 0; r < n; ++r) out[r] = Predict(rows.subspan(r * width, width));
}

}  // namespace sluice::models
