// JSONL records through simdjson's DOM parser: it validates the whole record (syntax and UTF-8),
// so a malformed line can never be half-applied.
#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "sluice/io/decoder.h"

namespace sluice::io {
namespace {

using core::FieldType;
using core::Reason;
using core::Value;

class JsonlDecoder final : public Decoder {
 public:
  JsonlDecoder(const core::Schema& schema, bool reject_unknown)
      : schema_(schema), reject_unknown_(reject_unknown), seen_(schema.size()) {}

  bool Decode(std::string_view record, Value* values, core::EventTime* time, StringArena* arena,
              DecodeError* err) override {
    simdjson::dom::element doc;
    auto error = parser_.parse(record.data(), record.size(), false).get(doc);
    if (error)
      return Fail(err, Reason::kParseError,
                  std::string("invalid JSON: ") + simdjson::error_message(error));
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return Fail(err, Reason::kSchema, "record is not a JSON object");
    for (size_t i = 0; i < schema_.size(); ++i) {
      values[i] = Value::Null();
      seen_[i] = false;
    }
    // Field errors wait until the event time has been checked: bad_time is the better reason.
    DecodeError field_err;
    for (auto field : obj) {
      int idx = schema_.Find(field.key);
      if (field_err.reason != Reason::kNone && idx != schema_.time_index()) continue;
      if (idx < 0) {
        if (reject_unknown_)
          Fail(&field_err, Reason::kSchema, "unknown field '" + std::string(field.key) + "'");
        continue;
      }
      if (seen_[idx]) {
        Fail(idx == schema_.time_index() ? err : &field_err, Reason::kSchema,
             "field '" + std::string(field.key) + "' given twice");
        if (idx == schema_.time_index()) return false;
        continue;
      }
      seen_[idx] = true;
      if (idx == schema_.time_index()) {
        if (!ConvertTime(field.value, &values[idx], arena, err)) return false;
      } else {
        Convert(field.value, idx, &values[idx], arena, &field_err);
      }
    }
    return FinishDecode(schema_, values, "field", &field_err, time, err);
  }

  // simdjson On-Demand: indexes the record, then reads the time field alone (no tape for the
  // other fields, no conversions). About a third of the cost of Decode on the fraud events.
  bool DecodeTime(std::string_view record, Value*, StringArena*, core::EventTime* time) override {
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    simdjson::ondemand::value v;
    simdjson::ondemand::json_type t;
    if (od_parser_.iterate(record.data(), record.size(), record.size() + simdjson::SIMDJSON_PADDING)
            .get(doc) ||
        doc.get_object().get(obj) ||
        obj.find_field_unordered(schema_.field(schema_.time_index()).name).get(v) ||
        v.type().get(t)) {
      return false;
    }
    Value out;
    if (t == simdjson::ondemand::json_type::number) {
      // From the token's text, as CSV reads a time cell: On-Demand's own number parsing
      // (simdjson 3.0.1) gets long fractions wrong (0.0592233720368547758089... read as 2e-17;
      // the fuzzer found it), from_chars rounds as the DOM parser does.
      std::string_view tok = v.raw_json_token();
      while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t' || tok.back() == '\n' ||
                              tok.back() == '\r')) {
        tok.remove_suffix(1);
      }
      if (!NumberFromText(tok, &out)) return false;
    } else if (t == simdjson::ondemand::json_type::string) {
      std::string_view str;  // in the parser's buffer until the next record: read below
      if (v.get_string().get(str)) return false;
      out = Value::String(str);
    } else {
      return false;
    }
    DecodeError err;
    return TimeFromValue(out, schema_.time_unit(), time, &err);
  }

 private:
  bool WrongType(int idx, const char* got, DecodeError* err) const {
    const core::FieldDef& f = schema_.field(idx);
    return Fail(err, Reason::kSchema,
                "field '" + f.name + "' should be " + core::FieldTypeName(f.type) + ", got " + got);
  }

  bool Convert(simdjson::dom::element v, int idx, Value* out, StringArena* arena,
               DecodeError* err) {
    using simdjson::dom::element_type;
    const element_type t = v.type();
    if (t == element_type::NULL_VALUE) return true;
    switch (schema_.field(idx).type) {
      case FieldType::kString:
        if (t != element_type::STRING) return WrongType(idx, TypeName(t), err);
        *out = Value::String(arena->Copy(v.get_string().value_unsafe()));
        return true;
      case FieldType::kDouble:
        if (t != element_type::DOUBLE && t != element_type::INT64 && t != element_type::UINT64) {
          return WrongType(idx, TypeName(t), err);
        }
        *out = Value::Double(v.get_double().value_unsafe());
        return true;
      case FieldType::kInt:
        if (t == element_type::INT64) {
          *out = Value::Int(v.get_int64().value_unsafe());
          return true;
        }
        return WrongType(idx,
                         t == element_type::DOUBLE   ? "a fractional number"
                         : t == element_type::UINT64 ? "an integer beyond int64"
                                                     : TypeName(t),
                         err);
      case FieldType::kBool:
        if (t != element_type::BOOL) return WrongType(idx, TypeName(t), err);
        *out = Value::Bool(v.get_bool().value_unsafe());
        return true;
    }
    return false;
  }

  bool ConvertTime(simdjson::dom::element v, Value* out, StringArena* arena, DecodeError* err) {
    using simdjson::dom::element_type;
    switch (v.type()) {
      case element_type::NULL_VALUE:
        return true;  // reported as missing
      case element_type::INT64:
        *out = Value::Int(v.get_int64().value_unsafe());
        return true;
      case element_type::UINT64:
        *out = Value::Double(static_cast<double>(v.get_uint64().value_unsafe()));
        return true;
      case element_type::DOUBLE:
        *out = Value::Double(v.get_double().value_unsafe());
        return true;
      case element_type::STRING:
        *out = Value::String(arena->Copy(v.get_string().value_unsafe()));
        return true;
      default:
        return Fail(err, Reason::kBadTime,
                    "event time field '" + schema_.field(schema_.time_index()).name + "' is " +
                        TypeName(v.type()));
    }
  }

  static const char* TypeName(simdjson::dom::element_type t) {
    using simdjson::dom::element_type;
    switch (t) {
      case element_type::ARRAY:
        return "an array";
      case element_type::OBJECT:
        return "an object";
      case element_type::INT64:
      case element_type::UINT64:
        return "an integer";
      case element_type::DOUBLE:
        return "a number";
      case element_type::STRING:
        return "a string";
      case element_type::BOOL:
        return "a boolean";
      case element_type::NULL_VALUE:
        return "null";
    }
    return "?";
  }

  const core::Schema& schema_;
  bool reject_unknown_;
  simdjson::dom::parser parser_;
  simdjson::ondemand::parser od_parser_;
  std::vector<bool> seen_;
};

}  // namespace

std::unique_ptr<Decoder> MakeJsonlDecoder(const core::Schema& schema, bool reject_unknown_fields) {
  return std::make_unique<JsonlDecoder>(schema, reject_unknown_fields);
}

bool FinishDecode(const core::Schema& schema, const core::Value* values, const char* what,
                  DecodeError* field_err, core::EventTime* time, DecodeError* err) {
  if (!TimeFromValue(values[schema.time_index()], schema.time_unit(), time, err)) {
    err->detail =
        std::string(what) + " '" + schema.field(schema.time_index()).name + "': " + err->detail;
    return false;
  }
  if (field_err->reason != Reason::kNone) {
    *err = std::move(*field_err);
    return false;
  }
  return true;
}

bool NumberFromText(std::string_view text, core::Value* out) {
  const char* end = text.data() + text.size();
  int64_t i;
  if (auto [p, ec] = std::from_chars(text.data(), end, i); ec == std::errc() && p == end) {
    *out = core::Value::Int(i);
    return true;
  }
  double d;
  auto [p, ec] = std::from_chars(text.data(), end, d);
  if (ec != std::errc() || p != end || !std::isfinite(d)) return false;
  *out = core::Value::Double(d);
  return true;
}

bool TimeFromValue(const core::Value& v, core::TimeUnit unit, core::EventTime* out,
                   DecodeError* err) {
  const bool iso = unit == core::TimeUnit::kIso8601;
  if (v.kind == Value::Kind::kNull) {
    err->reason = Reason::kSchema;
    err->detail = "missing event time";
    return false;
  }
  const bool right_type = iso ? v.kind == Value::Kind::kString
                              : v.kind == Value::Kind::kInt || v.kind == Value::Kind::kDouble;
  if (!right_type) {
    err->reason = Reason::kBadTime;
    err->detail = iso ? "expected an ISO-8601 string" : "expected a number";
    return false;
  }
  // Fast path, no Status on success: integers in range.
  if (v.kind == Value::Kind::kInt) {
    const int64_t m = core::MicrosPerUnit(unit);
    if (v.i >= 0 && v.i < core::kMaxEventMicros / m) {
      *out = core::EventTime::FromMicros(v.i * m);
      return true;
    }
  }
  core::Result<core::EventTime> t = iso                           ? core::ParseIso8601(v.s)
                                    : v.kind == Value::Kind::kInt ? core::TimeFromInteger(v.i, unit)
                                                                  : core::TimeFromNumber(v.d, unit);
  if (t.ok()) {
    *out = *t;
    return true;
  }
  err->reason = Reason::kBadTime;
  err->detail = t.status().message();
  return false;
}

}  // namespace sluice::io
