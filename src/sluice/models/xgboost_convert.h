#pragma once
// Model files that are not JSON (UBJSON `.ubj`, the legacy binary format) are turned into
// XGBoost JSON by libxgboost itself, so Sluice parses one schema only. Internal to the module.
#include <string>

#include "sluice/core/status.h"

namespace sluice::models {

// Loads `path` with XGBoosterLoadModel and returns XGBoosterSaveModelToBuffer's JSON.
core::Result<std::string> ConvertToJson(const std::string& path);

}  // namespace sluice::models
