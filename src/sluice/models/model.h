#pragma once
// Scoring XGBoost models in process. LoadModel reads a model file as users save it
// (`booster.save_model("m.json")`; `.ubj` and legacy binary files are converted through libxgboost)
// into an immutable Model whose trees are laid out for fast evaluation (see README.md).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/models/objective.h"

namespace sluice::models {

class Scorer;
struct ModelSpec;

// A loaded model. Immutable: every method is const, and Predict* may run on any number of threads
// at once. Predict* allocate nothing and read rows of num_inputs() floats, NaN meaning missing,
// in the order of input_names(). Results are what xgboost 1.7's predict gives for the same rows
// (computed in float, as xgboost does, and widened to double).
class Model {
 public:
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // The model's feature_names, or f0..fN-1 when it was saved without names.
  const std::vector<std::string>& input_names() const { return input_names_; }
  bool has_feature_names() const { return has_feature_names_; }
  size_t num_inputs() const { return input_names_.size(); }
  // Values per row from Predict: K probabilities for multi:softprob, otherwise 1 (the class index
  // for multi:softmax).
  int num_outputs() const { return num_outputs_; }
  // Values per row from PredictMargin: K for multi-class models, otherwise 1.
  int num_margins() const { return num_margins_; }
  const std::string& objective() const { return objective_.name; }
  const std::string& booster() const { return booster_; }

  // One row (the HTTP path): out gets num_outputs() (or num_margins()) values.
  void Predict(const float* row, double* out) const;
  void PredictMargin(const float* row, double* out) const;
  // n rows, row i at rows + i * stride (stride >= num_inputs()); out gets n x num_outputs()
  // (or n x num_margins()) values, row-major. Rows are scored in blocks, tree by tree.
  void PredictBatch(const float* rows, size_t n, size_t stride, double* out) const;
  void PredictMarginBatch(const float* rows, size_t n, size_t stride, double* out) const;

 private:
  friend core::Result<std::unique_ptr<Model>> BuildModel(ModelSpec spec);
  Model(const ModelSpec& spec, std::unique_ptr<const Scorer> scorer);
  template <bool kMargin>
  void Run(const float* rows, size_t n, size_t stride, double* out) const;

  Objective objective_;
  std::unique_ptr<const Scorer> scorer_;
  std::vector<std::string> input_names_;
  std::string booster_;
  bool has_feature_names_ = false;
  int num_outputs_ = 1, num_margins_ = 1;
  float base_margin_ = 0;
};

// Internal: the Model for a spec ParseXgboostJson has checked.
core::Result<std::unique_ptr<Model>> BuildModel(ModelSpec spec);

// Reads a model file. JSON is recognised by its content, anything else goes through libxgboost
// (UBJSON, the legacy binary format). Errors name the file and, for JSON, the offending key;
// unsupported boosters, objectives and split types are refused by name.
core::Result<std::unique_ptr<Model>> LoadModel(const std::string& path);

// The same from XGBoost JSON text in memory (tests, fuzzing, models sent over the network).
core::Result<std::unique_ptr<Model>> LoadModelFromJson(std::string_view json);

}  // namespace sluice::models
