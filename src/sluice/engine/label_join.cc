#include "sluice/engine/label_join.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "sluice/io/decoder.h"
#include "sluice/io/record_reader.h"

namespace sluice::engine {

using core::Reason;
using core::Result;
using core::Status;

namespace {
constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
}

Result<std::unique_ptr<LabelJoin>> LabelJoin::Load(const spec::Pipeline& p, const std::string& path,
                                                   io::DeadLetterSink* dead) {
  if (!p.labels) return Status::InvalidArgument("--labels needs a labels: block in the spec");
  const spec::LabelsSpec& ls = *p.labels;
  std::unique_ptr<LabelJoin> j(new LabelJoin());
  j->p_ = &p;
  j->path_ = path;
  const core::FieldType id_type = p.schema.field(p.event_id_index).type;
  core::Schema schema({{ls.event_id, id_type}, {ls.label, core::FieldType::kDouble}}, ls.time,
                      p.time_unit);
  auto decoder = io::MakeJsonlDecoder(schema, false);
  auto reader =
      io::RecordReader::Open(path, io::RecordReader::Framing::kLines, p.source.max_record_bytes);
  if (!reader.ok()) return reader.status();
  io::Chunk chunk;
  io::StringArena arena;
  std::vector<core::Value> values(schema.size());
  while (true) {
    auto more = (*reader)->Next(&chunk, 4 << 20);
    if (!more.ok()) return more.status();
    for (const io::Record& r : chunk.records) {
      std::string_view text = chunk.Text(r);
      io::DecodeError err;
      core::EventTime t;
      arena.Reset();
      Label l{kNone, 0, r.line, std::string(text)};
      if (r.oversize) {
        SLUICE_RETURN_IF_ERROR(
            j->Reject(l, Reason::kOversize, "label record longer than max_record_bytes", dead));
        continue;
      }
      if (!decoder->Decode(text, values.data(), &t, &arena, &err)) {
        SLUICE_RETURN_IF_ERROR(j->Reject(l, err.reason, err.detail, dead));
        continue;
      }
      if (values[0].is_null() || values[1].is_null()) {
        SLUICE_RETURN_IF_ERROR(j->Reject(
            l, Reason::kSchema, "label needs '" + ls.event_id + "' and '" + ls.label + "'", dead));
        continue;
      }
      char buf[24];
      std::string id(IdText(values[0], buf));
      l.value = values[1].d;
      l.time_us = t.micros();
      if (j->by_id_.contains(std::string_view(id))) {
        SLUICE_RETURN_IF_ERROR(
            j->Reject(l, Reason::kLabelDuplicate, "a second label for event '" + id + "'", dead));
        continue;
      }
      j->NoteEventTime(l.time_us);
      j->by_id_.emplace(std::move(id), static_cast<int64_t>(j->labels_.size()));
      j->labels_.push_back(std::move(l));
    }
    if (!*more) break;
  }
  return j;
}

Status LabelJoin::Reject(const Label& l, Reason r, const std::string& detail,
                         io::DeadLetterSink* dead) {
  io::DeadLetter d;
  d.reason = r;
  d.detail = detail;
  d.source = path_;
  d.position = l.line;
  d.record = l.raw;
  return dead->Write(d);
}

std::string_view LabelJoin::IdText(const core::Value& id, char (&buf)[24]) {
  if (id.kind == core::Value::Kind::kString) return id.s;
  return std::string_view(buf, std::to_chars(buf, buf + sizeof buf, id.i).ptr - buf);
}

Result<double> LabelJoin::Match(const core::Value& event_id, int64_t event_time_us,
                                io::DeadLetterSink* dead) {
  if (event_id.is_null()) return kNone;
  char buf[24];
  auto it = by_id_.find(IdText(event_id, buf));
  if (it == by_id_.end()) return kNone;
  Label& l = labels_[it->second];
  if (l.used) return kNone;
  l.used = true;
  if (l.time_us < event_time_us) {
    SLUICE_RETURN_IF_ERROR(
        Reject(l, Reason::kLabelBeforeEvent, "label is earlier than its event", dead));
    return kNone;
  }
  if (l.time_us - event_time_us > p_->labels->maturity.micros()) {
    SLUICE_RETURN_IF_ERROR(Reject(l, Reason::kLabelExpired,
                                  "label arrived after its event's maturity (" +
                                      core::FormatDuration(p_->labels->maturity) + ")",
                                  dead));
    return kNone;
  }
  ++joined_;
  return l.value;
}

double LabelJoin::Resolve(int64_t event_time_us) const {
  const auto& d = p_->labels->default_label;
  if (!d || event_time_us + p_->labels->maturity.micros() > end_of_data_) return kNone;
  return *d;
}

Status LabelJoin::Finish(io::DeadLetterSink* dead) {
  for (const Label& l : labels_) {
    if (!l.used)
      SLUICE_RETURN_IF_ERROR(
          Reject(l, Reason::kLabelNoEvent, "no applied event has this id", dead));
  }
  return Status::Ok();
}

}  // namespace sluice::engine
