#pragma once
// Reads XGBoost's JSON model schema (what `booster.save_model("m.json")` writes, 1.x and 2.x)
// into a checked ModelSpec. Internal to the module; LoadModel is the public entry.
#include <string_view>

#include "sluice/core/status.h"
#include "sluice/models/model_spec.h"

namespace sluice::models {

// Limits that keep a hostile file from asking for unbounded memory.
inline constexpr int64_t kMaxFeatures = 1 << 20;
inline constexpr int64_t kMaxGroups = 4096;
inline constexpr int64_t kMaxCategory = (1 << 24) - 1;  // largest integer a float holds exactly

// Every index is checked: children, features, groups and categories in range, every tree a tree
// (each node reached once from the root). Errors name the JSON path of the offending key.
core::Result<ModelSpec> ParseXgboostJson(std::string_view text);

}  // namespace sluice::models
