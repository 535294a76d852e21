#include "sluice/io/dead_letter.h"

#include "sluice/core/number_format.h"
#include "sluice/io/json_writer.h"

namespace sluice::io {

void AppendDeadLetterJson(const DeadLetter& d, std::string* out) {
  out->append("{\"reason\":\"");
  out->append(core::ReasonName(d.reason));
  out->append("\",\"detail\":");
  AppendJsonString(d.detail, out);
  out->append(",\"source\":");
  std::string pos(d.source);
  pos += d.position_is_line ? ":" : "/";
  core::AppendInt(d.position, &pos);
  AppendJsonString(pos, out);
  out->append(",\"record\":");
  if (!AppendJsonString(d.record, out)) {
    out->append(",\"record_base64\":\"");
    AppendBase64(d.record, out);
    out->push_back('"');
  }
  if (d.truncated) out->append(",\"truncated\":true");
  out->append("}\n");
}

core::Result<std::unique_ptr<DeadLetterSink>> DeadLetterSink::Open(const std::string& path) {
  auto sink = std::make_unique<DeadLetterSink>();
  if (!path.empty()) {
    auto w = FileWriter::Create(path);
    if (!w.ok()) return w.status();
    sink->out_ = std::move(w.value());
  }
  return sink;
}

core::Status DeadLetterSink::Write(const DeadLetter& d) {
  ++counts_[static_cast<int>(d.reason)];
  if (!out_) return core::Status::Ok();
  AppendDeadLetterJson(d, out_->buffer());
  return out_->MaybeFlush();
}

core::Status DeadLetterSink::Close() { return out_ ? out_->Close() : core::Status::Ok(); }

int64_t DeadLetterSink::total() const {
  int64_t t = 0;
  for (int64_t c : counts_) t += c;
  return t;
}

}  // namespace sluice::io
