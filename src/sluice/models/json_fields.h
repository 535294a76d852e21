#pragma once
// Typed access to simdjson DOM values with errors that name the JSON path, so a user reading
// "learner.objective.name: missing" knows which key of the model file is wrong. Internal.
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/status.h"

namespace sluice::models::json {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// The member `key` of `obj`; `path` is obj's own path, used in the error.
core::Status Member(element obj, std::string_view key, const std::string& path, element* out);
bool HasMember(element obj, std::string_view key);
core::Status GetObject(element v, const std::string& path, object* out);
core::Status GetArray(element v, const std::string& path, array* out);
core::Status GetString(element v, const std::string& path, std::string_view* out);

// XGBoost writes most scalars as strings ("5E-1", "3"); 2.x writes base_score as "[5E-1]".
// These accept a number, a numeric string, or a one-element array of either.
core::Status GetFloat(element v, const std::string& path, float* out);
core::Status GetInt(element v, const std::string& path, int64_t lo, int64_t hi, int64_t* out);

// Whole arrays. Floats accept null as NaN (the loader writes non-finite numbers as null).
core::Status GetFloats(element v, const std::string& path, std::vector<float>* out);
core::Status GetInts(element v, const std::string& path, std::vector<int32_t>* out);
core::Status GetStrings(element v, const std::string& path, std::vector<std::string>* out);

// A double narrowed to float without undefined behaviour when it is out of float's range.
float ToFloat(double d);

// Copies JSON text with XGBoost's non-standard NaN, Infinity and -Infinity tokens (outside
// strings) replaced by standard JSON (null, 1e308, -1e308), with simdjson's padding reserved.
std::string StandardizeNonFinite(std::string_view text);

}  // namespace sluice::models::json
