#pragma once
// The spec's `model:` block made ready to score: the model resolved (a file, or a registry alias
// or version, its bytes re-hashed), loaded, and each of its inputs bound to what feeds it, a
// feature or a numeric field (SPEC.md §3 "Model inputs"). Backfill and the streaming engine score
// through this, so a row gets the same score wherever it is computed.
// Immutable after Load; Score* may run on any number of threads at once.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/core/value.h"
#include "sluice/spec/pipeline.h"

namespace sluice::models {
class Model;
class LinearModel;
}  // namespace sluice::models

namespace sluice::engine {

class ScoringModel {
 public:
  // InvalidArgument (a spec error, exit 2) when the model needs inputs the spec cannot provide,
  // naming them, or when the model is refused; NotFound / IoError / Corruption otherwise.
  static core::Result<std::unique_ptr<ScoringModel>> Load(const spec::Pipeline& p);
  ~ScoringModel();

  // "score", or score_0..score_{K-1} for a multi-class model's probabilities (SPEC.md §4).
  const std::vector<std::string>& columns() const { return columns_; }
  size_t num_outputs() const { return columns_.size(); }
  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }  // 0 for a model given as a file

  // Scores n rows: row r's features at features + r * feature_stride (NaN = null), its fields at
  // fields[r] (the decoded event). Writes n x num_outputs() values to out. `scratch` holds the
  // model's input rows; reuse it across calls to allocate nothing once warm.
  void ScoreBatch(const double* features, size_t feature_stride, const core::Value* const* fields,
                  size_t n, std::vector<double>* scratch, double* out) const;

 private:
  ScoringModel() = default;
  static core::Result<std::unique_ptr<ScoringModel>> LoadUnprefixed(const spec::Pipeline& p);
  core::Status Bind(const spec::Pipeline& p, const std::vector<std::string>& inputs);
  double Input(size_t i, const double* features, const core::Value* fields) const;

  struct Source {
    int feature = -1;  // index into the pipeline's features, or
    int field = -1;    // index into the schema
  };
  std::unique_ptr<const models::Model> trees_;
  std::unique_ptr<const models::LinearModel> linear_;
  std::vector<Source> sources_;  // per model input
  std::vector<std::string> columns_;
  std::string name_;
  int64_t version_ = 0;
};

}  // namespace sluice::engine
