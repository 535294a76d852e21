#pragma once
// What the registry can tell about a model file without loading it for scoring: its format and,
// when the format names them, its input names (so a spec can be checked against them).
// Stateless; safe from any thread.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/status.h"

namespace sluice::models {

struct ArtifactInfo {
  std::string format;                              // "sluice-linear", "xgboost-json" or "opaque"
  std::optional<std::vector<std::string>> inputs;  // none when the file does not name them
};

// InvalidArgument when the bytes claim to be a sluice-linear model but are not a valid one;
// anything unrecognised is "opaque" (the registry versions any file).
core::Result<ArtifactInfo> DescribeArtifact(std::string_view bytes, std::string_view origin);

}  // namespace sluice::models
