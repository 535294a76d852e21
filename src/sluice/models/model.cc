#include "sluice/models/model.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "sluice/models/scorer.h"
#include "sluice/models/xgboost_convert.h"
#include "sluice/models/xgboost_json.h"

namespace sluice::models {

Model::Model(const ModelSpec& spec, std::unique_ptr<const Scorer> scorer)
    : objective_(spec.objective),
      scorer_(std::move(scorer)),
      input_names_(spec.feature_names),
      booster_(spec.booster),
      has_feature_names_(!spec.feature_names.empty()),
      num_outputs_(NumOutputs(spec.objective, spec.num_groups)),
      num_margins_(spec.num_groups),
      base_margin_(BaseMargin(spec.objective, spec.base_score)) {
  if (!has_feature_names_) {
    for (int i = 0; i < spec.num_features; ++i) input_names_.push_back("f" + std::to_string(i));
  }
}

Model::~Model() = default;

template <bool kMargin>
void Model::Run(const float* rows, size_t n, size_t stride, double* out) const {
  const size_t groups = static_cast<size_t>(num_margins_);
  const size_t block = std::min(kMaxBlockRows, kBlockFloats / groups);
  const size_t per_row = kMargin ? groups : static_cast<size_t>(num_outputs_);
  float acc[kBlockFloats];
  for (size_t r0 = 0; r0 < n; r0 += block) {
    const size_t m = std::min(block, n - r0);
    std::fill(acc, acc + m * groups, base_margin_);
    scorer_->AddMargins(rows + r0 * stride, m, stride, acc);
    for (size_t i = 0; i < m; ++i) {
      double* o = out + (r0 + i) * per_row;
      if constexpr (kMargin) {
        std::copy(acc + i * groups, acc + (i + 1) * groups, o);
      } else {
        TransformRow(objective_, acc + i * groups, num_margins_, o);
      }
    }
  }
}

void Model::Predict(const float* row, double* out) const { Run<false>(row, 1, 0, out); }
void Model::PredictMargin(const float* row, double* out) const { Run<true>(row, 1, 0, out); }
void Model::PredictBatch(const float* rows, size_t n, size_t stride, double* out) const {
  Run<false>(rows, n, stride, out);
}
void Model::PredictMarginBatch(const float* rows, size_t n, size_t stride, double* out) const {
  Run<true>(rows, n, stride, out);
}

core::Result<std::unique_ptr<Model>> BuildModel(ModelSpec spec) {
  std::unique_ptr<const Scorer> scorer;
  if (spec.booster == "gblinear") {
    scorer = BuildLinear(spec);
  } else {
    auto forest = BuildForest(spec);
    if (!forest.ok()) return forest.status();
    scorer = std::move(*forest);
  }
  // The constructor is private: only a checked spec makes a Model.
  return std::unique_ptr<Model>(new Model(spec, std::move(scorer)));
}

core::Result<std::unique_ptr<Model>> LoadModelFromJson(std::string_view json) {
  auto spec = ParseXgboostJson(json);
  if (!spec.ok()) return spec.status();
  return BuildModel(std::move(*spec));
}

namespace {

// XGBoost JSON starts with an object whose first key is a quoted string; UBJSON's object marker
// is followed by a length marker, the legacy binary format by a binary header.
bool LooksLikeJson(std::string_view s) {
  size_t i = s.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || s[i] != '{') return false;
  i = s.find_first_not_of(" \t\r\n", i + 1);
  return i != std::string_view::npos && (s[i] == '"' || s[i] == '}');
}

}  // namespace

core::Result<std::unique_ptr<Model>> LoadModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Status::IoError(path + ": cannot open model file");
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  if (LooksLikeJson(text)) {
    auto m = LoadModelFromJson(text);
    if (!m.ok()) return m.status().WithContext(path);
    return m;
  }
  auto json = ConvertToJson(path);
  if (!json.ok()) return json.status().WithContext(path);
  auto m = LoadModelFromJson(*json);
  if (!m.ok()) return m.status().WithContext(path + " (converted to JSON by libxgboost)");
  return m;
}

}  // namespace sluice::models
