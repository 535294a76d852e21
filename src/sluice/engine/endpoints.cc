#include "sluice/engine/endpoints.h"

#include <map>
#include <thread>

#include "sluice/io/file_writer.h"
#include "sluice/io/kafka_consumer.h"
#include "sluice/io/kafka_producer.h"

namespace sluice::engine {

using core::Result;
using core::Status;

namespace {

io::KafkaProperties Properties(const spec::KafkaSpec& k) {
  return io::KafkaProperties(k.config.begin(), k.config.end());
}

class FileSource final : public Source {
 public:
  FileSource(std::unique_ptr<io::RecordReader> reader, std::string name)
      : reader_(std::move(reader)), name_(std::move(name)) {}
  Result<bool> Next(io::Chunk* chunk, size_t max_bytes, std::chrono::milliseconds wait) override {
    auto more = reader_->Next(chunk, max_bytes);
    if (more.ok() && *more && chunk->records.empty()) std::this_thread::sleep_for(wait);
    return more;
  }
  void Origin(const io::Chunk& chunk, size_t i, io::DeadLetter* d) const override {
    d->source = name_;
    d->position = chunk.records[i].line;
  }
  const std::string& name() const override { return name_; }
  std::vector<SourcePosition> Position() const override {
    return {{name_, -1, reader_->next_offset(), 0, reader_->next_line()}};
  }
  Status Resume(const std::vector<SourcePosition>& positions) override {
    if (positions.size() != 1 || positions[0].partition != -1)
      return Status::InvalidArgument("the checkpoint was taken from another kind of source");
    return reader_->SeekTo(positions[0].offset, positions[0].line);
  }

 private:
  std::unique_ptr<io::RecordReader> reader_;
  std::string name_;
};

// Records are copied out of librdkafka's buffers into the chunk: the decoders need padding after
// each record, and the copy lets the batch (and its fetch buffers) go at once.
class KafkaSource final : public Source, io::KafkaRebalanceListener {
 public:
  static Result<std::unique_ptr<Source>> Open(const spec::KafkaSpec& k) {
    std::unique_ptr<KafkaSource> s(new KafkaSource());
    s->name_ = k.topic;
    io::KafkaConsumerOptions o{k.brokers, k.group, {k.topic}, Properties(k), s.get()};
    auto c = io::KafkaConsumer::Create(std::move(o));
    if (!c.ok()) return c.status();
    s->consumer_ = std::move(*c);
    return std::unique_ptr<Source>(std::move(s));
  }
  Result<bool> Next(io::Chunk* chunk, size_t max_bytes, std::chrono::milliseconds wait) override;
  void Origin(const io::Chunk&, size_t i, io::DeadLetter* d) const override {
    d->source = name_ + "/" + std::to_string(origin_[i].partition);
    d->position = origin_[i].offset;
    d->position_is_line = false;
  }
  Status Delivered() override;
  void UpdateMetrics(monitor::Registry* m) const override;
  const std::string& name() const override { return name_; }

  std::vector<SourcePosition> Position() const override {
    std::vector<SourcePosition> out;
    for (const auto& [p, next] : done_) out.push_back({name_, p, next, 0, 0});
    return out;
  }
  Status Resume(const std::vector<SourcePosition>& positions) override {
    for (const auto& p : positions) {
      if (p.partition < 0 || p.source != name_)
        return Status::InvalidArgument("the checkpoint was taken from another source (" + p.source +
                                       ")");
      done_[p.partition] = p.offset;
    }
    return Status::Ok();
  }
  // A partition resumes where the checkpoint's state stands, not at the group's committed offset
  // (which may be ahead: outputs are committed per batch, state per checkpoint); the events in
  // between are applied again, so state is exactly-once and those outputs repeat.
  void OnAssigned(const std::vector<io::TopicPartition>& parts,
                  std::vector<io::TopicPartitionOffset>* start) override {
    for (const auto& tp : parts) {
      auto it = done_.find(tp.partition);
      if (it != done_.end()) start->push_back({tp.topic, tp.partition, io::KafkaOffset{it->second}});
    }
  }
  // The runtime commits after every chunk, before polling again: nothing is in flight here.
  void OnRevoked(const std::vector<io::TopicPartition>&, bool) override {}

 private:
  struct Pos {
    int32_t partition;
    int64_t offset;
  };
  std::unique_ptr<io::KafkaConsumer> consumer_;
  io::KafkaBatch batch_;
  std::vector<Pos> origin_;
  std::map<int32_t, int64_t> pending_;  // partition -> next offset, once delivered
  std::map<int32_t, int64_t> done_;     // partition -> next offset of what has been delivered
  std::string name_;
};

Result<bool> KafkaSource::Next(io::Chunk* chunk, size_t max_bytes, std::chrono::milliseconds wait) {
  chunk->data.clear();
  chunk->records.clear();
  origin_.clear();
  SLUICE_RETURN_IF_ERROR(consumer_->Poll(&batch_, 10000, wait));
  for (size_t i = 0; i < batch_.size(); ++i) {
    const io::KafkaMessageView m = batch_[i];
    io::Record r;
    r.offset = chunk->data.size();
    r.length = m.value.size();
    chunk->data.append(m.value);
    chunk->records.push_back(r);
    origin_.push_back({m.partition, m.offset.value});
    pending_[m.partition] = m.offset.value + 1;
  }
  batch_.Clear();
  chunk->data.reserve(chunk->data.size() + io::RecordReader::kPadding);
  (void)max_bytes;  // a poll's batch is bounded by message count; librdkafka bounds the bytes
  return true;
}

Status KafkaSource::Delivered() {
  if (pending_.empty()) return Status::Ok();
  std::vector<io::TopicPartitionOffset> offsets;
  for (const auto& [p, next] : pending_) {
    offsets.push_back({name_, p, io::KafkaOffset{next}});
    done_[p] = next;
  }
  pending_.clear();
  return consumer_->CommitSync(offsets);
}

void KafkaSource::UpdateMetrics(monitor::Registry* m) const {
  for (const io::PartitionLag& l : consumer_->Lag()) {
    if (l.lag < 0) continue;
    m->GetGauge("sluice_kafka_consumer_lag", "Messages behind the partition's high watermark.",
                {{"topic", l.topic}, {"partition", std::to_string(l.partition)}})
        ->Set(static_cast<double>(l.lag));
  }
}

class NullSink final : public Sink {
 public:
  Status Write(std::string_view, std::string_view) override { return Status::Ok(); }
  Status Flush() override { return Status::Ok(); }
  Status Close() override { return Status::Ok(); }
};

class FileSink final : public Sink {
 public:
  explicit FileSink(std::unique_ptr<io::FileWriter> w) : w_(std::move(w)) {}
  Status Write(std::string_view, std::string_view line) override {
    w_->buffer()->append(line);
    w_->buffer()->push_back('\n');
    return w_->MaybeFlush();
  }
  Status Flush() override { return w_->Flush(); }
  Status Close() override { return w_->Close(); }

 private:
  std::unique_ptr<io::FileWriter> w_;
};

// Keyed by event id, so a consumer (or a compacted topic) can drop the repeats a crash between
// checkpoints may cause. Delivery failures are kept and reported by Flush().
class KafkaSink final : public Sink {
 public:
  static Result<std::unique_ptr<Sink>> Open(const spec::KafkaSpec& k) {
    std::unique_ptr<KafkaSink> s(new KafkaSink());
    s->topic_ = k.topic;
    io::KafkaProducerOptions o;
    o.brokers = k.brokers;
    o.config = Properties(k);
    o.topics = {k.topic};
    KafkaSink* self = s.get();
    o.on_delivery = [self](const io::KafkaDelivery& d) {
      if (!d.status.ok() && self->error_.ok()) self->error_ = d.status;
    };
    auto p = io::KafkaProducer::Create(std::move(o));
    if (!p.ok()) return p.status();
    s->producer_ = std::move(*p);
    return std::unique_ptr<Sink>(std::move(s));
  }
  Status Write(std::string_view key, std::string_view line) override {
    return producer_->Produce(topic_, key, line, 0);
  }
  Status Flush() override {
    SLUICE_RETURN_IF_ERROR(producer_->Flush(std::chrono::milliseconds(60000)));
    Status e = std::move(error_);
    error_ = Status::Ok();
    return e;
  }
  Status Close() override { return Flush(); }

 private:
  std::unique_ptr<io::KafkaProducer> producer_;
  std::string topic_;
  Status error_;
};

}  // namespace

Result<std::unique_ptr<Source>> OpenSource(const spec::Pipeline& p, const SourceOptions& o) {
  if (o.input.empty() && p.source.kafka) return KafkaSource::Open(*p.source.kafka);
  const std::string input = o.input.empty() ? p.source.file : o.input;
  if (input.empty()) return Status::InvalidArgument("no input: give --input or a source");
  const auto framing = p.source.format == spec::Format::kCsv ? io::RecordReader::Framing::kCsv
                                                             : io::RecordReader::Framing::kLines;
  auto reader = io::RecordReader::Open(input, framing, p.source.max_record_bytes);
  if (!reader.ok()) return reader.status();
  (*reader)->SetStreaming(o.follow);
  return std::unique_ptr<Source>(
      new FileSource(std::move(*reader), input == "-" ? "stdin" : input));
}

Result<std::unique_ptr<Sink>> OpenSink(const std::string& path,
                                       const std::optional<spec::KafkaSpec>& kafka,
                                       const std::string& fallback) {
  if (path.empty() && kafka) return KafkaSink::Open(*kafka);
  if (path.empty() && fallback.empty()) return std::unique_ptr<Sink>(new NullSink());
  auto w = io::FileWriter::Create(path.empty() ? fallback : path);
  if (!w.ok()) return w.status();
  return std::unique_ptr<Sink>(new FileSink(std::move(*w)));
}

}  // namespace sluice::engine
