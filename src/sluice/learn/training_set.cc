#include "sluice/learn/training_set.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sluice/io/decoder.h"
#include "sluice/io/record_reader.h"

namespace sluice::learn {
namespace {

using core::Result;
using core::Status;

// The columns the decoder reads: every input, then the label (the time field is added by
// Schema). All numeric: a feature or label cell must parse as a double or be empty.
core::Schema TableSchema(const spec::Pipeline& p, const std::vector<std::string>& inputs,
                         const std::string& label) {
  std::vector<core::FieldDef> fields;
  for (const auto& name : inputs) fields.push_back({name, core::FieldType::kDouble});
  fields.push_back({label, core::FieldType::kDouble});
  return core::Schema(std::move(fields), p.time_field, p.time_unit);
}

Status CheckHeader(std::string_view header, const core::Schema& schema, const std::string& csv) {
  // The decoder treats an absent column as null; for training that is a mistake worth naming.
  std::vector<std::string> cols;
  size_t start = 0;
  while (start <= header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view c = header.substr(start, end - start);
    if (c.size() >= 2 && c.front() == '"' && c.back() == '"') c = c.substr(1, c.size() - 2);
    cols.emplace_back(c);
    start = end + 1;
  }
  std::string missing;
  for (const auto& f : schema.fields()) {
    if (std::find(cols.begin(), cols.end(), f.name) == cols.end())
      missing += (missing.empty() ? "" : ", ") + f.name;
  }
  if (!missing.empty())
    return Status::InvalidArgument(csv + ": missing column(s): " + missing);
  return Status::Ok();
}

}  // namespace

Result<TrainingSet> LoadTrainingSet(const spec::Pipeline& p, const std::string& csv,
                                    const std::string& label, std::vector<std::string> inputs) {
  if (inputs.empty()) {
    for (const auto& f : p.features) inputs.push_back(f.name);
  }
  const core::Schema schema = TableSchema(p, inputs, label);
  auto reader = io::RecordReader::Open(csv, io::RecordReader::Framing::kCsv, 1 << 20);
  if (!reader.ok()) return reader.status();
  auto decoder = io::MakeCsvDecoder(schema, ',', /*reject_unknown_fields=*/false);
  TrainingSet t;
  t.inputs = inputs;
  const int label_index = schema.Find(label);
  std::vector<core::Value> values(schema.size());
  io::StringArena arena;
  io::Chunk chunk;
  bool header_seen = false;
  while (true) {
    auto more = (*reader)->Next(&chunk, 4 << 20);
    if (!more.ok()) return more.status();
    for (const io::Record& r : chunk.records) {
      const std::string_view text = chunk.Text(r);
      const std::string where = csv + ":" + std::to_string(r.line);
      if (!header_seen) {
        header_seen = true;
        if (Status s = CheckHeader(text, schema, csv); !s.ok()) return s;
        if (Status s = decoder->SetHeader(text); !s.ok()) return s.WithContext(where);
        continue;
      }
      core::EventTime time;
      io::DecodeError err;
      arena.Reset();
      if (r.oversize || !decoder->Decode(text, values.data(), &time, &arena, &err))
        return Status::InvalidArgument(where + ": " + (r.oversize ? "row too long" : err.detail));
      if (values[label_index].is_null()) {
        ++t.unlabelled;
        continue;
      }
      for (size_t i = 0; i < inputs.size(); ++i) {
        const core::Value& v = values[i];
        t.x.push_back(v.is_null() ? NAN : static_cast<float>(v.AsDouble()));
      }
      t.y.push_back(static_cast<float>(values[label_index].AsDouble()));
      t.time_us.push_back(time.micros());
    }
    if (!*more) break;
  }
  if (!header_seen) return Status::InvalidArgument(csv + ": empty file, no header");
  return t;
}

void SplitByTime(const TrainingSet& t, double holdout_fraction, std::vector<size_t>* train,
                 std::vector<size_t>* holdout) {
  std::vector<size_t> order(t.rows());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return t.time_us[a] < t.time_us[b]; });
  const size_t n_hold = static_cast<size_t>(std::llround(holdout_fraction * t.rows()));
  const size_t n_train = t.rows() - std::min(n_hold, t.rows());
  train->assign(order.begin(), order.begin() + n_train);
  holdout->assign(order.begin() + n_train, order.end());
}

}  // namespace sluice::learn
