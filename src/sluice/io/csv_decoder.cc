// CSV records (RFC 4180: quoted fields, "" for a quote, a header row naming the columns).
#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "sluice/io/decoder.h"

namespace sluice::io {
namespace {

using core::FieldType;
using core::Reason;
using core::Value;

class CsvDecoder final : public Decoder {
 public:
  CsvDecoder(const core::Schema& schema, char delim, bool reject_unknown)
      : schema_(schema), delim_(delim), reject_unknown_(reject_unknown) {}

  bool NeedsHeader() const override { return true; }

  core::Status SetHeader(std::string_view header) override {
    DecodeError err;
    if (!Split(header, &arena_, &err))
      return core::Status::InvalidArgument("CSV header: " + err.detail);
    columns_.clear();
    for (std::string_view name : cells_) {
      int idx = schema_.Find(name);
      if (idx < 0 && reject_unknown_)
        return core::Status::InvalidArgument("CSV header: unknown column '" + std::string(name) +
                                             "'");
      for (int c : columns_) {
        if (idx >= 0 && c == idx)
          return core::Status::InvalidArgument("CSV header: column '" + std::string(name) +
                                               "' twice");
      }
      columns_.push_back(idx);
    }
    bool has_time = false;
    for (int c : columns_) has_time = has_time || c == schema_.time_index();
    if (!has_time) {
      return core::Status::InvalidArgument("CSV header has no event-time column '" +
                                           schema_.field(schema_.time_index()).name + "'");
    }
    return core::Status::Ok();
  }

  bool Decode(std::string_view record, Value* values, core::EventTime* time, StringArena* arena,
              DecodeError* err) override {
    if (!simdjson::validate_utf8(record.data(), record.size())) {
      return Fail(err, Reason::kParseError, "invalid UTF-8");
    }
    if (!Split(record, arena, err)) return false;
    if (cells_.size() != columns_.size()) {
      return Fail(err, Reason::kParseError,
                  "expected " + std::to_string(columns_.size()) + " columns, got " +
                      std::to_string(cells_.size()));
    }
    for (size_t i = 0; i < schema_.size(); ++i) values[i] = Value::Null();
    DecodeError field_err;  // reported after the event time: bad_time is the better reason
    for (size_t c = 0; c < cells_.size(); ++c) {
      int idx = columns_[c];
      if (idx < 0 || cells_[c].empty()) continue;
      const bool is_time = idx == schema_.time_index();
      if (!is_time && field_err.reason != Reason::kNone) continue;
      if (!Convert(cells_[c], idx, &values[idx], is_time ? err : &field_err) && is_time)
        return false;
    }
    return FinishDecode(schema_, values, "column", &field_err, time, err);
  }

 private:
  // Splits into cells_; quoted cells with "" are unescaped into `arena`.
  bool Split(std::string_view rec, StringArena* arena, DecodeError* err) {
    cells_.clear();
    size_t i = 0;
    while (true) {
      if (i < rec.size() && rec[i] == '"') {
        size_t j = i + 1;
        bool escaped = false;
        while (true) {
          if (j >= rec.size()) return Fail(err, Reason::kParseError, "unterminated quoted field");
          if (rec[j] == '"') {
            if (j + 1 < rec.size() && rec[j + 1] == '"') {
              escaped = true;
              j += 2;
              continue;
            }
            break;
          }
          ++j;
        }
        std::string_view inner = rec.substr(i + 1, j - i - 1);
        cells_.push_back(escaped ? Unescape(inner, arena) : inner);
        i = j + 1;
        if (i < rec.size() && rec[i] != delim_)
          return Fail(err, Reason::kParseError, "text after a closing quote");
      } else {
        size_t j = rec.find(delim_, i);
        if (j == std::string_view::npos) j = rec.size();
        std::string_view cell = rec.substr(i, j - i);
        if (cell.find('"') != std::string_view::npos)
          return Fail(err, Reason::kParseError, "quote inside an unquoted field");
        cells_.push_back(cell);
        i = j;
      }
      if (i >= rec.size()) break;
      ++i;  // delimiter
    }
    return true;
  }

  static std::string_view Unescape(std::string_view s, StringArena* arena) {
    char* out = arena->Allocate(s.size());
    size_t n = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      out[n++] = s[i];
      if (s[i] == '"') ++i;
    }
    return {out, n};
  }

  bool Convert(std::string_view cell, int idx, Value* out, DecodeError* err) {
    const core::FieldDef& f = schema_.field(idx);
    bool is_time = idx == schema_.time_index();
    if (is_time && schema_.time_unit() == core::TimeUnit::kIso8601) {
      *out = Value::String(cell);
      return true;
    }
    if (is_time) {
      if (NumberFromText(cell, out)) return true;
      return Fail(err, Reason::kBadTime,
                  "column '" + f.name + "': not a number: '" + Clip(cell) + "'");
    }
    if (f.type == FieldType::kInt) {
      int64_t v;
      auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (ec == std::errc() && p == cell.data() + cell.size()) {
        *out = Value::Int(v);
        return true;
      }
      return Bad(f, cell, err);
    }
    switch (f.type) {
      case FieldType::kString:
        *out = Value::String(cell);
        return true;
      case FieldType::kDouble: {
        double d;
        auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), d);
        if (ec != std::errc() || p != cell.data() + cell.size() || !std::isfinite(d)) {
          return Bad(f, cell, err);
        }
        *out = Value::Double(d);
        return true;
      }
      case FieldType::kBool:
        if (cell == "true" || cell == "1")
          *out = Value::Bool(true);
        else if (cell == "false" || cell == "0")
          *out = Value::Bool(false);
        else
          return Bad(f, cell, err);
        return true;
      default:
        return Bad(f, cell, err);
    }
  }

  static std::string Clip(std::string_view s) {
    return std::string(s.substr(0, 64)) + (s.size() > 64 ? "..." : "");
  }

  bool Bad(const core::FieldDef& f, std::string_view cell, DecodeError* err) const {
    return Fail(err, Reason::kSchema,
                "column '" + f.name + "' should be " + core::FieldTypeName(f.type) + ", got '" +
                    Clip(cell) + "'");
  }

  const core::Schema& schema_;
  char delim_;
  bool reject_unknown_;
  std::vector<int> columns_;  // schema index per CSV column, -1 when ignored
  std::vector<std::string_view> cells_;
  StringArena arena_;
};

}  // namespace

std::unique_ptr<Decoder> MakeCsvDecoder(const core::Schema& schema, char delimiter,
                                        bool reject_unknown_fields) {
  return std::make_unique<CsvDecoder>(schema, delimiter, reject_unknown_fields);
}

std::unique_ptr<Decoder> MakeDecoder(const spec::Pipeline& p) {
  if (p.source.format == spec::Format::kCsv) {
    return MakeCsvDecoder(p.schema, p.source.csv_delimiter, p.source.reject_unknown_fields);
  }
  return MakeJsonlDecoder(p.schema, p.source.reject_unknown_fields);
}

}  // namespace sluice::io
