#pragma once
// Typed field values of a decoded event. Strings are views into buffers owned by the batch that
// holds the event (see io::EventBatch); a Value never owns memory.
#include <cmath>
#include <cstdint>
#include <string_view>

namespace sluice::core {

enum class FieldType : uint8_t { kString, kDouble, kInt, kBool };

const char* FieldTypeName(FieldType t);
bool IsNumeric(FieldType t);

struct Value {
  enum class Kind : uint8_t { kNull, kDouble, kInt, kBool, kString };

  Kind kind = Kind::kNull;
  union {
    double d;
    int64_t i;
    bool b;
  };
  std::string_view s;

  Value() : i(0) {}
  static Value Null() { return Value(); }
  static Value Double(double v) {
    Value x;
    if (std::isnan(v)) return x;  // NaN counts as null everywhere (SPEC.md §3).
    x.kind = Kind::kDouble;
    x.d = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.kind = Kind::kInt;
    x.i = v;
    return x;
  }
  static Value Bool(bool v) {
    Value x;
    x.kind = Kind::kBool;
    x.b = v;
    return x;
  }
  static Value String(std::string_view v) {
    Value x;
    x.kind = Kind::kString;
    x.s = v;
    return x;
  }

  bool is_null() const { return kind == Kind::kNull; }
  // Numeric view: doubles, ints and bools (1/0); NaN for null and strings.
  double AsDouble() const {
    switch (kind) {
      case Kind::kDouble:
        return d;
      case Kind::kInt:
        return static_cast<double>(i);
      case Kind::kBool:
        return b ? 1.0 : 0.0;
      default:
        return std::nan("");
    }
  }
};

}  // namespace sluice::core
