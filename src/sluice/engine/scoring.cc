#include "sluice/engine/scoring.h"

#include <cmath>

#include "sluice/models/artifact_info.h"
#include "sluice/models/file_util.h"
#include "sluice/models/input_check.h"
#include "sluice/models/linear_model.h"
#include "sluice/models/model.h"
#include "sluice/models/registry.h"

namespace sluice::engine {
namespace {

using core::Result;
using core::Status;

struct Artifact {
  std::string bytes, origin, name;
  int64_t version = 0;
};

// The model's bytes: from its file, or from the registry (verified against their hash).
Result<Artifact> Fetch(const spec::Pipeline& p) {
  const spec::ModelSpec& m = *p.model;
  Artifact a;
  if (!m.file.empty()) {
    a.origin = m.file;  // already resolved against the spec's folder
    auto bytes = models::ReadWholeFile(a.origin);
    if (!bytes.ok()) return bytes.status();
    a.bytes = std::move(*bytes);
    a.name = p.name;
    return a;
  }
  auto reg = models::Registry::Open(m.registry, {.create = false});
  if (!reg.ok()) return reg.status();
  auto v = m.version ? (*reg)->GetVersion(m.name, *m.version) : (*reg)->Resolve(m.name, m.alias);
  if (!v.ok()) return v.status();
  auto bytes = (*reg)->LoadArtifact(*v);
  if (!bytes.ok()) return bytes.status();
  a.bytes = std::move(*bytes);
  a.origin = m.name + " v" + std::to_string(v->version);
  a.name = m.name;
  a.version = v->version;
  return a;
}

}  // namespace

ScoringModel::~ScoringModel() = default;

Result<std::unique_ptr<ScoringModel>> ScoringModel::Load(const spec::Pipeline& p) {
  auto m = LoadUnprefixed(p);
  if (!m.ok()) return m.status().WithContext(p.spec_path + ": model");
  return m;
}

Result<std::unique_ptr<ScoringModel>> ScoringModel::LoadUnprefixed(const spec::Pipeline& p) {
  if (!p.model) return Status::InvalidArgument("the spec has no model block");
  auto a = Fetch(p);
  if (!a.ok()) return a.status();
  std::unique_ptr<ScoringModel> s(new ScoringModel());
  s->name_ = a->name;
  s->version_ = a->version;
  auto info = models::DescribeArtifact(a->bytes, a->origin);
  if (!info.ok()) return Status::InvalidArgument(info.status().message());
  std::vector<std::string> inputs;
  if (info->format == models::kLinearFormat) {
    auto m = models::LinearModel::Parse(a->bytes, a->origin);
    if (!m.ok()) return Status::InvalidArgument(m.status().message());
    s->linear_ = std::make_unique<const models::LinearModel>(std::move(*m));
    inputs = s->linear_->inputs();
    s->columns_ = {"score"};
  } else {
    auto m = info->format == "xgboost-json" ? models::LoadModelFromJson(a->bytes)
                                            : models::LoadModel(a->origin);
    if (!m.ok()) return Status::InvalidArgument(a->origin + ": " + m.status().message());
    s->trees_ = std::move(*m);
    inputs = s->trees_->input_names();
    const int k = s->trees_->num_outputs();
    for (int i = 0; i < k; ++i) s->columns_.push_back(k == 1 ? "score" : "score_" + std::to_string(i));
  }
  if (Status st = s->Bind(p, inputs); !st.ok()) return st;
  return s;
}

Status ScoringModel::Bind(const spec::Pipeline& p, const std::vector<std::string>& inputs) {
  if (auto missing = models::CheckInputs(inputs, p.ModelInputCandidates()); !missing.empty()) {
    return Status::InvalidArgument(
        std::string("the model needs input") + (missing.size() > 1 ? "s " : " ") +
        models::JoinNames(missing) + " that the spec does not provide (not a feature or numeric field)");
  }
  for (const auto& name : inputs) {  // a feature wins a name clash with a field, as in expressions
    Source src;
    src.feature = p.FindFeature(name);
    if (src.feature < 0) src.field = p.schema.Find(name);
    sources_.push_back(src);
  }
  return Status::Ok();
}

double ScoringModel::Input(size_t i, const double* features, const core::Value* fields) const {
  const Source& s = sources_[i];
  if (s.feature >= 0) return features[s.feature];
  const core::Value& v = fields[s.field];
  return v.is_null() ? NAN : v.AsDouble();
}

void ScoringModel::ScoreBatch(const double* features, size_t feature_stride,
                              const core::Value* const* fields, size_t n,
                              std::vector<double>* scratch, double* out) const {
  const size_t ni = sources_.size();
  if (linear_) {
    scratch->resize(n * ni);
    for (size_t r = 0; r < n; ++r) {
      for (size_t i = 0; i < ni; ++i)
        (*scratch)[r * ni + i] = Input(i, features + r * feature_stride, fields[r]);
    }
    linear_->PredictBatch(*scratch, {out, n});
    return;
  }
  // The tree evaluator reads float rows, as xgboost does; they live in the same scratch.
  scratch->resize((n * ni + 1) / 2 + 1);
  float* rows = reinterpret_cast<float*>(scratch->data());
  for (size_t r = 0; r < n; ++r) {
    for (size_t i = 0; i < ni; ++i)
      rows[r * ni + i] = static_cast<float>(Input(i, features + r * feature_stride, fields[r]));
  }
  trees_->PredictBatch(rows, n, ni, out);
}

}  // namespace sluice::engine
