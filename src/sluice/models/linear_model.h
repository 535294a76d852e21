#pragma once
// Linear and logistic regression models in the "sluice-linear" JSON format (docs/models.md):
//   {"format":"sluice-linear","version":1,"kind":"logistic","inputs":["a","b"],
//    "weights":[0.5,-1.25],"bias":0.1,"metadata":{...}}
// score = bias + sum_i weights[i] * x[i]   (kind "linear")
// score = 1 / (1 + exp(-that))              (kind "logistic")
// A missing input (NaN) contributes nothing, as an absent feature does in sparse training.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/status.h"

namespace sluice::models {

enum class LinearKind { kLinear, kLogistic };

inline constexpr std::string_view kLinearFormat = "sluice-linear";
inline constexpr int kLinearFormatVersion = 1;

// The numerically stable logistic function: no overflow for any finite margin.
double Sigmoid(double margin);

// An immutable linear model. Predict* are const, allocate nothing, and may be called from any
// number of threads at once. Owns its names and weights.
class LinearModel {
 public:
  // Validates: as many weights as inputs, distinct non-empty input names, finite numbers.
  static core::Result<LinearModel> Make(LinearKind kind, std::vector<std::string> inputs,
                                        std::vector<double> weights, double bias,
                                        std::string metadata_json = "");
  // Parses the JSON text; `origin` (a file name) prefixes error messages.
  static core::Result<LinearModel> Parse(std::string_view json, std::string_view origin);
  static core::Result<LinearModel> Load(const std::string& path);

  // The JSON text, numbers printed so they parse back to the same doubles.
  std::string ToJson() const;
  // Writes ToJson() to a temporary file in the same folder, then renames it over `path`.
  core::Status Save(const std::string& path) const;

  // `x` holds one value per input, in inputs() order.
  double Margin(std::span<const double> x) const;
  double Predict(std::span<const double> x) const;
  // Rows are row-major, inputs().size() values each; writes rows.size() / inputs().size() scores.
  void PredictBatch(std::span<const double> rows, std::span<double> out) const;

  LinearKind kind() const { return kind_; }
  const std::vector<std::string>& inputs() const { return inputs_; }
  const std::vector<double>& weights() const { return weights_; }
  double bias() const { return bias_; }
  // The "metadata" object as JSON text ("" when absent); Sluice does not interpret it.
  const std::string& metadata_json() const { return metadata_json_; }

 private:
  LinearModel() = default;
  LinearKind kind_ = LinearKind::kLinear;
  std::vector<std::string> inputs_;
  std::vector<double> weights_;
  double bias_ = 0;
  std::string metadata_json_;
};

}  // namespace sluice::models
