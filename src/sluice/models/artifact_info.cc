#include "sluice/models/artifact_info.h"

#include <simdjson.h>

#include "sluice/models/linear_model.h"

namespace sluice::models {

namespace {

// XGBoost's JSON model names its features in learner.feature_names (empty when trained on a
// bare matrix); only the names are read here, scoring is the tree evaluator's business.
std::optional<std::vector<std::string>> XgboostInputs(simdjson::dom::object root) {
  simdjson::dom::array names;
  if (root.at_pointer("/learner/feature_names").get_array().get(names)) return std::nullopt;
  std::vector<std::string> out;
  for (auto n : names) {
    std::string_view s;
    if (n.get_string().get(s)) return std::nullopt;
    out.emplace_back(s);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace

core::Result<ArtifactInfo> DescribeArtifact(std::string_view bytes, std::string_view origin) {
  ArtifactInfo info{"opaque", std::nullopt};
  simdjson::dom::parser parser;
  simdjson::padded_string padded(bytes);
  simdjson::dom::object root;
  if (parser.parse(padded).get_object().get(root)) return info;
  std::string_view format;
  if (!root["format"].get_string().get(format) && format == kLinearFormat) {
    auto model = LinearModel::Parse(bytes, origin);
    if (!model.ok()) return model.status();
    info.format = std::string(kLinearFormat);
    info.inputs = model->inputs();
    return info;
  }
  if (root["learner"].error() == simdjson::SUCCESS) {
    info.format = "xgboost-json";
    info.inputs = XgboostInputs(root);
  }
  return info;
}

}  // namespace sluice::models
