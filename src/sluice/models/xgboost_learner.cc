// The learner-level keys of an XGBoost JSON model: parameters, objective, feature names and the
// booster (gbtree, dart, gblinear). Trees themselves are read in xgboost_json.cc.
#include <string>

#include "sluice/models/json_fields.h"
#include "sluice/models/xgboost_json.h"

namespace sluice::models {

using core::Status;
using json::element;

Status ParseTrees(element model, const std::string& path, ModelSpec* spec);

namespace {

Status ParseInt(element obj, const char* key, const std::string& path, int64_t lo, int64_t hi,
                int64_t* out) {
  element e;
  SLUICE_RETURN_IF_ERROR(json::Member(obj, key, path, &e));
  return json::GetInt(e, path + "." + key, lo, hi, out);
}

Status ParseParams(element learner, ModelSpec* spec) {
  const std::string path = "learner.learner_model_param";
  element p, e;
  SLUICE_RETURN_IF_ERROR(json::Member(learner, "learner_model_param", "learner", &p));
  SLUICE_RETURN_IF_ERROR(json::Member(p, "base_score", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetFloat(e, path + ".base_score", &spec->base_score));
  int64_t num_feature = 0, num_class = 0, num_target = 1;
  SLUICE_RETURN_IF_ERROR(ParseInt(p, "num_feature", path, 0, kMaxFeatures, &num_feature));
  SLUICE_RETURN_IF_ERROR(ParseInt(p, "num_class", path, 0, kMaxGroups, &num_class));
  if (json::HasMember(p, "num_target"))
    SLUICE_RETURN_IF_ERROR(ParseInt(p, "num_target", path, 0, kMaxGroups, &num_target));
  if (num_target > 1)
    return Status::InvalidArgument(path + ".num_target: multi-target models (" +
                                   std::to_string(num_target) + " targets) are not supported");
  spec->num_features = static_cast<int>(num_feature);
  spec->num_groups = num_class > 1 ? static_cast<int>(num_class) : 1;
  return Status::Ok();
}

Status ParseObjective(element learner, ModelSpec* spec) {
  element o, e;
  std::string_view name;
  SLUICE_RETURN_IF_ERROR(json::Member(learner, "objective", "learner", &o));
  SLUICE_RETURN_IF_ERROR(json::Member(o, "name", "learner.objective", &e));
  SLUICE_RETURN_IF_ERROR(json::GetString(e, "learner.objective.name", &name));
  auto obj = FindObjective(name);
  if (!obj.ok()) return obj.status().WithContext("learner.objective.name");
  spec->objective = std::move(*obj);
  if (spec->objective.multi_class && spec->num_groups < 2)
    return Status::InvalidArgument(
        "learner.learner_model_param.num_class: " + spec->objective.name + " needs num_class >= 2");
  if (!spec->objective.multi_class && spec->num_groups > 1)
    return Status::InvalidArgument(
        "learner.learner_model_param.num_class: " + std::to_string(spec->num_groups) +
        " classes with objective " + spec->objective.name);
  return Status::Ok();
}

Status ParseNames(element learner, ModelSpec* spec) {
  element e;
  if (json::HasMember(learner, "feature_names")) {
    SLUICE_RETURN_IF_ERROR(json::Member(learner, "feature_names", "learner", &e));
    SLUICE_RETURN_IF_ERROR(json::GetStrings(e, "learner.feature_names", &spec->feature_names));
  }
  if (json::HasMember(learner, "feature_types")) {
    SLUICE_RETURN_IF_ERROR(json::Member(learner, "feature_types", "learner", &e));
    SLUICE_RETURN_IF_ERROR(json::GetStrings(e, "learner.feature_types", &spec->feature_types));
  }
  const size_t n = static_cast<size_t>(spec->num_features);
  if (!spec->feature_names.empty() && spec->feature_names.size() != n)
    return Status::InvalidArgument(
        "learner.feature_names: " + std::to_string(spec->feature_names.size()) + " names for " +
        std::to_string(n) + " features");
  if (!spec->feature_types.empty() && spec->feature_types.size() != n)
    return Status::InvalidArgument(
        "learner.feature_types: " + std::to_string(spec->feature_types.size()) + " types for " +
        std::to_string(n) + " features");
  return Status::Ok();
}

Status ParseDartWeights(element booster, ModelSpec* spec) {
  element e;
  std::vector<float> w;
  SLUICE_RETURN_IF_ERROR(json::Member(booster, "weight_drop", "learner.gradient_booster", &e));
  SLUICE_RETURN_IF_ERROR(json::GetFloats(e, "learner.gradient_booster.weight_drop", &w));
  if (w.size() != spec->trees.size())
    return Status::InvalidArgument(
        "learner.gradient_booster.weight_drop: " + std::to_string(w.size()) + " weights for " +
        std::to_string(spec->trees.size()) + " trees");
  for (size_t i = 0; i < w.size(); ++i) spec->trees[i].weight = w[i];
  return Status::Ok();
}

Status ParseLinear(element booster, ModelSpec* spec) {
  const std::string path = "learner.gradient_booster.model";
  element m, e;
  SLUICE_RETURN_IF_ERROR(json::Member(booster, "model", "learner.gradient_booster", &m));
  SLUICE_RETURN_IF_ERROR(json::Member(m, "weights", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetFloats(e, path + ".weights", &spec->linear_weights));
  const size_t want = static_cast<size_t>(spec->num_features + 1) * spec->num_groups;
  if (spec->linear_weights.size() != want)
    return Status::InvalidArgument(
        path + ".weights: " + std::to_string(spec->linear_weights.size()) +
        " weights, expected (num_feature + 1) x groups = " + std::to_string(want));
  return Status::Ok();
}

Status ParseBooster(element learner, ModelSpec* spec) {
  const std::string path = "learner.gradient_booster";
  element b, e;
  std::string_view name;
  SLUICE_RETURN_IF_ERROR(json::Member(learner, "gradient_booster", "learner", &b));
  SLUICE_RETURN_IF_ERROR(json::Member(b, "name", path, &e));
  SLUICE_RETURN_IF_ERROR(json::GetString(e, path + ".name", &name));
  spec->booster = std::string(name);
  if (name == "gblinear") return ParseLinear(b, spec);
  if (name == "gbtree") {
    SLUICE_RETURN_IF_ERROR(json::Member(b, "model", path, &e));
    return ParseTrees(e, path + ".model", spec);
  }
  if (name == "dart") {
    element inner;
    SLUICE_RETURN_IF_ERROR(json::Member(b, "gbtree", path, &inner));
    SLUICE_RETURN_IF_ERROR(json::Member(inner, "model", path + ".gbtree", &e));
    SLUICE_RETURN_IF_ERROR(ParseTrees(e, path + ".gbtree.model", spec));
    return ParseDartWeights(b, spec);
  }
  return Status::InvalidArgument(path + ".name: unsupported booster '" + spec->booster +
                                 "' (supported: gbtree, dart, gblinear)");
}

}  // namespace

Status ParseLearner(element learner, ModelSpec* spec) {
  SLUICE_RETURN_IF_ERROR(ParseParams(learner, spec));
  SLUICE_RETURN_IF_ERROR(ParseObjective(learner, spec));
  SLUICE_RETURN_IF_ERROR(ParseNames(learner, spec));
  return ParseBooster(learner, spec);
}

}  // namespace sluice::models
