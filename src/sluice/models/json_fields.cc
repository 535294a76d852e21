#include "sluice/models/json_fields.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace sluice::models::json {

namespace {

core::Status Bad(const std::string& path, const std::string& what) {
  return core::Status::InvalidArgument(path + ": " + what);
}

const char* TypeName(element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
    default:
      return "a number";
  }
}

core::Status Wrong(element v, const std::string& path, const char* want) {
  return Bad(path, std::string("should be ") + want + ", got " + TypeName(v));
}

// Unwraps the one-element array form ("[5E-1]" as text or as JSON).
std::string_view StripBrackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

core::Status Member(element obj, std::string_view key, const std::string& path, element* out) {
  if (!obj.is_object()) return Wrong(obj, path, "an object");
  if (obj.at_key(key).get(*out)) return Bad(path, "missing key '" + std::string(key) + "'");
  return core::Status::Ok();
}

bool HasMember(element obj, std::string_view key) {
  element e;
  return obj.is_object() && !obj.at_key(key).get(e);
}

core::Status GetObject(element v, const std::string& path, object* out) {
  if (v.get_object().get(*out)) return Wrong(v, path, "an object");
  return core::Status::Ok();
}

core::Status GetArray(element v, const std::string& path, array* out) {
  if (v.get_array().get(*out)) return Wrong(v, path, "an array");
  return core::Status::Ok();
}

core::Status GetString(element v, const std::string& path, std::string_view* out) {
  if (v.get_string().get(*out)) return Wrong(v, path, "a string");
  return core::Status::Ok();
}

float ToFloat(double d) {
  constexpr double kMax = std::numeric_limits<float>::max();
  // Past the midpoint between FLT_MAX and 2^128 IEEE rounding gives infinity; casting such a
  // double is undefined behaviour in C++, so it is spelled out.
  constexpr double kOverflow = 3.4028235677973366e38;
  if (std::isnan(d)) return std::numeric_limits<float>::quiet_NaN();
  if (std::fabs(d) >= kOverflow) return std::copysign(std::numeric_limits<float>::infinity(), d);
  if (std::fabs(d) > kMax) return static_cast<float>(std::copysign(kMax, d));
  return static_cast<float>(d);
}

core::Status GetFloat(element v, const std::string& path, float* out) {
  array arr;
  if (!v.get_array().get(arr)) {
    if (arr.size() != 1) return Bad(path, "should hold exactly one number");
    return GetFloat(arr.at(0).value_unsafe(), path, out);
  }
  double d;
  if (!v.get_double().get(d)) {
    *out = ToFloat(d);
    return core::Status::Ok();
  }
  std::string_view s;
  if (v.get_string().get(s)) return Wrong(v, path, "a number");
  s = StripBrackets(s);
  // from_chars<float> rounds the decimal text once, straight to float, as xgboost's reader does.
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty())
    return Bad(path, "not a number: '" + std::string(s) + "'");
  return core::Status::Ok();
}

core::Status GetInt(element v, const std::string& path, int64_t lo, int64_t hi, int64_t* out) {
  int64_t i;
  std::string_view s;
  if (!v.get_int64().get(i)) {
    *out = i;
  } else if (!v.get_string().get(s)) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), i);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty())
      return Bad(path, "not an integer: '" + std::string(s) + "'");
    *out = i;
  } else {
    return Wrong(v, path, "an integer");
  }
  if (*out < lo || *out > hi)
    return Bad(path, std::to_string(*out) + " is outside [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]");
  return core::Status::Ok();
}

core::Status GetFloats(element v, const std::string& path, std::vector<float>* out) {
  array arr;
  SLUICE_RETURN_IF_ERROR(GetArray(v, path, &arr));
  out->clear();
  out->reserve(arr.size());
  for (element e : arr) {
    double d;
    if (e.is_null()) {
      out->push_back(std::numeric_limits<float>::quiet_NaN());
    } else if (!e.get_double().get(d)) {
      out->push_back(ToFloat(d));
    } else {
      return Wrong(e, path + "[" + std::to_string(out->size()) + "]", "a number");
    }
  }
  return core::Status::Ok();
}

core::Status GetInts(element v, const std::string& path, std::vector<int32_t>* out) {
  array arr;
  SLUICE_RETURN_IF_ERROR(GetArray(v, path, &arr));
  out->clear();
  out->reserve(arr.size());
  for (element e : arr) {
    int64_t i;
    bool b;
    if (!e.get_int64().get(i) && i >= INT32_MIN && i <= INT32_MAX) {
      out->push_back(static_cast<int32_t>(i));
    } else if (!e.get_bool().get(b)) {  // default_left was written as booleans before 1.6
      out->push_back(b ? 1 : 0);
    } else {
      return Wrong(e, path + "[" + std::to_string(out->size()) + "]", "a 32-bit integer");
    }
  }
  return core::Status::Ok();
}

core::Status GetStrings(element v, const std::string& path, std::vector<std::string>* out) {
  array arr;
  SLUICE_RETURN_IF_ERROR(GetArray(v, path, &arr));
  out->clear();
  for (element e : arr) {
    std::string_view s;
    SLUICE_RETURN_IF_ERROR(GetString(e, path + "[" + std::to_string(out->size()) + "]", &s));
    out->emplace_back(s);
  }
  return core::Status::Ok();
}

std::string StandardizeNonFinite(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8 + simdjson::SIMDJSON_PADDING);
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    const std::string_view rest = text.substr(i);
    if (rest.starts_with("NaN")) {
      out += "null";
      i += 2;
    } else if (rest.starts_with("-Infinity")) {
      out += "-1e308";
      i += 8;
    } else if (rest.starts_with("Infinity")) {
      out += "1e308";
      i += 7;
    } else {
      out += c;
      in_string = c == '"';
    }
  }
  return out;
}

}  // namespace sluice::models::json
