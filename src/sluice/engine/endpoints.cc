#include "sluice/engine/endpoints.h"

#include <algorithm>
#include <map>
#include <thread>
#include <utility>

#include "sluice/engine/partition_aligner.h"
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
  static Result<std::unique_ptr<Source>> Open(const spec::Pipeline& p) {
    const spec::KafkaSpec& k = *p.source.kafka;
    std::unique_ptr<KafkaSource> s(new KafkaSource(p));
    s->name_ = k.topic;
    auto reset = k.config.find("auto.offset.reset");  // Sluice's default is earliest
    s->reset_to_earliest_ = reset == k.config.end() || reset->second == "earliest" ||
                            reset->second == "smallest" || reset->second == "beginning";
    io::KafkaConsumerOptions o{k.brokers, k.group, {k.topic}, Properties(k), s.get()};
    auto c = io::KafkaConsumer::Create(std::move(o));
    if (!c.ok()) return c.status();
    s->consumer_ = std::move(*c);
    return std::unique_ptr<Source>(std::move(s));
  }
  // Leaves the group while the members its rebalance listener (this) touches are alive.
  ~KafkaSource() override {
    if (consumer_) (void)consumer_->Close();
  }
  Result<bool> Next(io::Chunk* chunk, size_t max_bytes, std::chrono::milliseconds wait) override;
  void Origin(const io::Chunk&, size_t i, io::DeadLetter* d) const override {
    // "topic/partition" is built here: d->source views it (a temporary would dangle; ASan saw
    // the dead letters' source turn to garbage).
    origin_name_ = name_ + "/" + std::to_string(origin_[i].partition);
    d->source = origin_name_;
    d->position = origin_[i].offset;
    d->position_is_line = false;
  }
  bool Replaying() const override { return replaying_; }
  void Sealed() override;
  Status Delivered(bool wait) override;
  void SetDrain(std::function<Status()> drain) override { drain_ = std::move(drain); }
  Status AddOffsetsTo(io::KafkaProducer* producer) override;
  std::vector<std::string> TakeWarnings() override { return std::exchange(warnings_, {}); }
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
  Status ResumeEmpty() override {
    from_log_start_ = true;
    return Status::Ok();
  }
  void OnAssigned(const std::vector<io::TopicPartition>& parts,
                  std::vector<io::TopicPartitionOffset>* start) override;
  // Outputs of sealed chunks may still be in flight: they are delivered and their offsets
  // committed before the partitions go (the drain), so the next owner starts after them. What the
  // aligner still holds was neither handed out nor committed: dropped, the next owner reads it.
  void OnRevoked(const std::vector<io::TopicPartition>& parts, bool) override {
    if (drain_) {
      Status st = drain_();
      if (!st.ok() && drain_error_.ok()) drain_error_ = std::move(st);
    }
    for (const auto& tp : parts) {
      aligner_.Revoke(tp.partition);
      polled_.erase(tp.partition);
      paused_.erase(tp.partition);
    }
  }

 private:
  // Idle partitions stop holding the others back after this long without data (PartitionAligner).
  static constexpr std::chrono::milliseconds kIdle{1000}, kFirstIdle{5000};
  // A partition buffered beyond this is paused until it drains to half (bounds memory).
  static constexpr size_t kMaxBufferedPerPartition = 8 << 20;
  explicit KafkaSource(const spec::Pipeline& p) : aligner_(p, kIdle, kFirstIdle) {}
  bool CaughtUp(int32_t partition) const;
  bool Ready() const;  // the aligner can hand out a record now
  void Emit(io::Chunk* chunk, size_t max_bytes);
  Status PauseOrResume();
  struct Pos {
    int32_t partition;
    int64_t offset;
  };
  bool IsReplay(int32_t partition, int64_t offset);

  std::unique_ptr<io::KafkaConsumer> consumer_;
  io::KafkaBatch batch_;
  PartitionAligner aligner_;
  std::map<int32_t, int64_t> polled_;  // partition -> next offset after what Poll returned
  std::map<int32_t, bool> paused_;
  std::vector<Pos> origin_;
  mutable std::string origin_name_;  // what the last Origin() pointed a dead letter's source at
  std::map<int32_t, int64_t> pending_;        // partition -> next offset, once sealed and delivered
  std::map<int32_t, int64_t> sealed_;         // partition -> next offset, once delivered
  std::map<int32_t, int64_t> in_background_;  // partition -> offset of a commit not waited for
  std::map<int32_t, int64_t> done_;           // partition -> next offset of what has been delivered
  // partition -> the group's committed offset, while the records below it are being replayed
  std::map<int32_t, int64_t> replay_until_;
  // partition -> the offset it starts at, when known (for its lag before its first record)
  std::map<int32_t, int64_t> start_;
  std::map<int32_t, int64_t> read_;  // partition -> next offset to hand out (for its lag)
  bool reset_to_earliest_ = true;    // auto.offset.reset: where a partition without a start begins
  bool replaying_ = false;
  bool from_log_start_ = false;  // ResumeEmpty()
  bool offsets_in_transaction_ = false;
  std::function<Status()> drain_;
  Status drain_error_;  // of a drain in a rebalance callback, returned by the next Next()
  std::vector<std::string> warnings_;
  std::string name_;
};

// A partition resumes where the checkpoint's state stands, not at the group's committed offset,
// which is ahead when outputs were delivered after the checkpoint (outputs commit per batch,
// state per checkpoint). The records in between are applied to state again, so state is
// exactly-once, but their outputs were delivered and committed: they are replayed without
// output. With an empty state (ResumeEmpty) a partition the group has committed is read from its
// log start the same way. A resume offset below the partition's log start (retention deleted
// records the state never saw) cannot be honoured: it is logged, and the partition starts at the
// log start.
void KafkaSource::OnAssigned(const std::vector<io::TopicPartition>& parts,
                             std::vector<io::TopicPartitionOffset>* start) {
  if (parts.empty()) return;
  auto committed = consumer_->Committed(parts, std::chrono::seconds(10));
  if (!committed.ok()) {
    warnings_.push_back("could not read the group's committed offsets (" +
                        committed.status().message() +
                        "): outputs since the checkpoint will be written again");
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const io::TopicPartition& tp = parts[i];
    read_.erase(tp.partition);
    aligner_.Assign(tp.partition, PartitionAligner::Clock::now());
    const int64_t committed_at = committed.ok() ? (*committed)[i].offset.value : -1;
    auto it = done_.find(tp.partition);
    if (it == done_.end() && (!from_log_start_ || committed_at < 0)) {
      // Resumes at the group's committed offset; else at auto.offset.reset (start unknown here).
      if (committed_at >= 0) start_[tp.partition] = committed_at;
      continue;
    }
    auto marks = consumer_->QueryWatermarks(tp, std::chrono::seconds(10));
    if (!marks.ok()) {
      warnings_.push_back("could not check the log start of " + tp.topic + "/" +
                          std::to_string(tp.partition) + ": " + marks.status().message());
    }
    int64_t from = it != done_.end() ? it->second : 0;
    if (marks.ok() && marks->first > from) {
      warnings_.push_back(
          "records lost to retention: " + tp.topic + "/" + std::to_string(tp.partition) +
          " offsets " + std::to_string(from) + " to " + std::to_string(marks->first - 1) +
          " were deleted before the state saw them; resuming at " + std::to_string(marks->first));
      from = marks->first;
    }
    start->push_back({tp.topic, tp.partition, io::KafkaOffset{from}});
    start_[tp.partition] = from;
    if (committed_at > from) replay_until_[tp.partition] = committed_at;
  }
}

bool KafkaSource::IsReplay(int32_t partition, int64_t offset) {
  auto it = replay_until_.find(partition);
  if (it == replay_until_.end()) return false;
  if (offset < it->second) return true;
  replay_until_.erase(it);
  return false;
}

bool KafkaSource::CaughtUp(int32_t partition) const {
  const auto [low, high] = consumer_->CachedWatermarks({name_, partition});
  if (high < 0) return false;  // not fetched yet
  auto polled = polled_.find(partition);
  if (polled != polled_.end()) return polled->second >= high;
  auto start = start_.find(partition);
  if (start != start_.end()) return start->second >= high;
  return low == high;  // an empty partition
}

bool KafkaSource::Ready() const {
  return aligner_.Pick([this](int32_t p) { return CaughtUp(p); },
                       PartitionAligner::Clock::now()) >= 0;
}

// Records in event-time order across partitions (PartitionAligner), offset order within each;
// replayed and new records never share a chunk.
void KafkaSource::Emit(io::Chunk* chunk, size_t max_bytes) {
  const auto now = PartitionAligner::Clock::now();
  auto caught_up = [this](int32_t p) { return CaughtUp(p); };
  for (int32_t p; (p = aligner_.Pick(caught_up, now)) >= 0;) {
    const PartitionAligner::Message m = aligner_.Head(p);
    const bool replay = IsReplay(p, m.offset);
    if (chunk->records.empty()) {
      replaying_ = replay;
    } else if (replay != replaying_ || chunk->data.size() + m.value.size() > max_bytes) {
      break;  // the rest goes in the next chunk
    }
    io::Record r;
    r.offset = chunk->data.size();
    r.length = m.value.size();
    chunk->data.append(m.value);
    chunk->records.push_back(r);
    origin_.push_back({p, m.offset});
    pending_[p] = read_[p] = m.offset + 1;
    aligner_.Pop(p);
  }
}

// Backpressure on a partition far ahead of the others: librdkafka stops fetching it (and drops
// what it prefetched of it, fetched again from polled_ on resume).
Status KafkaSource::PauseOrResume() {
  for (const auto& [p, next] : polled_) {
    const size_t bytes = aligner_.buffered_bytes(p);
    bool& paused = paused_[p];
    const io::TopicPartition tp{name_, p};
    if (!paused && bytes > kMaxBufferedPerPartition) {
      SLUICE_RETURN_IF_ERROR(consumer_->Pause({&tp, 1}));
      paused = true;
    } else if (paused && bytes < kMaxBufferedPerPartition / 2) {
      SLUICE_RETURN_IF_ERROR(consumer_->Resume({&tp, 1}));
      paused = false;
    }
  }
  return Status::Ok();
}

Result<bool> KafkaSource::Next(io::Chunk* chunk, size_t max_bytes, std::chrono::milliseconds wait) {
  SLUICE_RETURN_IF_ERROR(std::exchange(drain_error_, Status::Ok()));
  chunk->data.clear();
  chunk->records.clear();
  origin_.clear();
  const auto deadline = PartitionAligner::Clock::now() + wait;
  for (;;) {
    // Does not wait when a buffered record can be handed out now (a saturated engine always has
    // one: waiting here would idle it once per chunk). Else waits for a first message when
    // nothing is buffered, or takes a short look for more, so a partition the others wait on
    // can deliver. Rounded up: the last fraction of a millisecond is waited for too, not polled
    // for in a loop.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - PartitionAligner::Clock::now());
    const auto timeout = Ready()           ? std::chrono::milliseconds(0)
                         : aligner_.empty() ? std::max(left, std::chrono::milliseconds(0))
                                            : std::min(left, std::chrono::milliseconds(5));
    SLUICE_RETURN_IF_ERROR(
        consumer_->Poll(&batch_, 10000, std::max(timeout, std::chrono::milliseconds(0))));
    const auto now = PartitionAligner::Clock::now();
    for (size_t i = 0; i < batch_.size(); ++i) {
      const io::KafkaMessageView m = batch_[i];
      polled_[m.partition] = m.offset.value + 1;
      aligner_.Add(m.partition, batch_.Take(i), now);
    }
    batch_.Clear();
    Emit(chunk, max_bytes);
    SLUICE_RETURN_IF_ERROR(PauseOrResume());
    if (!chunk->records.empty() || PartitionAligner::Clock::now() >= deadline) break;
  }
  chunk->data.reserve(chunk->data.size() + io::RecordReader::kPadding);
  return true;
}

Status KafkaSource::AddOffsetsTo(io::KafkaProducer* producer) {
  if (sealed_.empty()) return Status::Ok();
  std::vector<io::TopicPartitionOffset> offsets;
  for (const auto& [p, next] : sealed_) offsets.push_back({name_, p, io::KafkaOffset{next}});
  SLUICE_RETURN_IF_ERROR(
      producer->SendOffsetsToTransaction(offsets, *consumer_, std::chrono::seconds(60)));
  offsets_in_transaction_ = true;
  return Status::Ok();
}

// Replayed records were committed before the restart (committing them again would move the
// group's offset back): they are done once applied.
void KafkaSource::Sealed() {
  for (const auto& [p, next] : pending_) (replaying_ ? done_ : sealed_)[p] = next;
  pending_.clear();
}

// Offsets sent with a transaction were committed by it.
Status KafkaSource::Delivered(bool wait) {
  SLUICE_RETURN_IF_ERROR(consumer_->TakeAsyncCommitError());
  for (const auto& [p, next] : sealed_) done_[p] = next;
  if (offsets_in_transaction_) {
    offsets_in_transaction_ = false;
    sealed_.clear();
    return Status::Ok();
  }
  std::vector<io::TopicPartitionOffset> offsets;
  if (!wait) {
    for (const auto& [p, next] : sealed_) {
      offsets.push_back({name_, p, io::KafkaOffset{next}});
      in_background_[p] = next;
    }
    sealed_.clear();
    return consumer_->CommitAsync(offsets);
  }
  // Commits sent in the background may not have arrived: they are sent again, and waited for.
  std::map<int32_t, int64_t> to_commit = std::exchange(in_background_, {});
  for (const auto& [p, next] : sealed_) to_commit[p] = next;
  sealed_.clear();
  for (const auto& [p, next] : to_commit) offsets.push_back({name_, p, io::KafkaOffset{next}});
  bool group_changing = false;
  Status st = consumer_->CommitSync(offsets, &group_changing);
  if (!group_changing) return st;
  // Not fatal: the partitions' next owner (or this engine, after the rebalance) starts at the
  // last offsets the group has, and repeats the outputs after them (at-least-once).
  warnings_.push_back("offsets not committed, the group is rebalancing: " + st.message());
  return Status::Ok();
}

void KafkaSource::UpdateMetrics(monitor::Registry* m) const {
  for (io::PartitionLag l : consumer_->Lag()) {
    if (l.high_watermark < 0) continue;
    // librdkafka's position is past everything polled; the engine may still hold some of it.
    if (auto read = read_.find(l.partition); read != read_.end()) {
      l.lag = std::max<int64_t>(0, l.high_watermark - read->second);
    } else {  // nothing handed out from it yet: from where it starts
      auto start = start_.find(l.partition);
      if (start != start_.end()) {
        l.lag = std::max<int64_t>(0, l.high_watermark - start->second);
      } else if (reset_to_earliest_ && l.low_watermark >= 0) {
        l.lag = l.high_watermark - l.low_watermark;
      }
    }
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

// A producer and the first delivery failure it reported (cleared when taken).
struct ReportingProducer {
  static Result<std::shared_ptr<ReportingProducer>> Create(const spec::KafkaSpec& k,
                                                           std::vector<std::string> topics,
                                                           std::string transactional_id) {
    auto self = std::make_shared<ReportingProducer>();
    io::KafkaProducerOptions o;
    o.brokers = k.brokers;
    o.config = Properties(k);
    o.topics = std::move(topics);
    o.transactional_id = std::move(transactional_id);
    ReportingProducer* raw = self.get();
    o.on_delivery = [raw](const io::KafkaDelivery& d) {
      if (!d.status.ok() && raw->error.ok()) raw->error = d.status;
    };
    auto p = io::KafkaProducer::Create(std::move(o));
    if (!p.ok()) return p.status();
    self->producer = std::move(*p);
    return self;
  }
  Status TakeError() { return std::exchange(error, Status::Ok()); }

  std::unique_ptr<io::KafkaProducer> producer;
  Status error;
};

// Keyed by event id, so a consumer (or a compacted topic) can drop the repeats a crash between
// checkpoints may cause. Delivery failures are kept and reported by Flush(). In a transaction
// (exactly_once) Flush() only reports them: the commit delivers.
class KafkaSink final : public Sink {
 public:
  KafkaSink(std::shared_ptr<ReportingProducer> p, std::string topic, bool transactional)
      : p_(std::move(p)), topic_(std::move(topic)), transactional_(transactional) {}
  Status Write(std::string_view key, std::string_view line) override {
    return p_->producer->Produce(topic_, key, line, 0);
  }
  Status Flush() override {
    if (!transactional_)
      SLUICE_RETURN_IF_ERROR(p_->producer->Flush(std::chrono::milliseconds(60000)));
    return p_->TakeError();
  }
  Status Close() override { return Flush(); }
  bool FlushWaits() const override { return true; }

 private:
  std::shared_ptr<ReportingProducer> p_;
  std::string topic_;
  bool transactional_;
};

Result<std::unique_ptr<Sink>> OpenKafkaSink(const spec::KafkaSpec& k) {
  auto p = ReportingProducer::Create(k, {k.topic}, "");
  if (!p.ok()) return p.status();
  return std::unique_ptr<Sink>(new KafkaSink(std::move(*p), k.topic, false));
}

// librdkafka asks for the same call again after a retriable transaction error.
template <typename Call>
Status RetryTxn(io::KafkaProducer* p, Call call) {
  Status s = call();
  for (int attempt = 0;
       !s.ok() && p->last_txn_error() == io::KafkaTxnError::kRetriable && attempt < 10; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << std::min(attempt, 4)));
    s = call();
  }
  return s;
}

}  // namespace

struct OutputTransaction::Impl {
  std::shared_ptr<ReportingProducer> p;
  std::string output_topic, dead_topic;  // dead_topic empty: dead letters not on Kafka
};

OutputTransaction::OutputTransaction(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutputTransaction::~OutputTransaction() = default;

Result<std::unique_ptr<OutputTransaction>> OutputTransaction::Open(
    const spec::Pipeline& pipeline, const std::string& transactional_id) {
  if (!pipeline.output || !pipeline.output->kafka)
    return Status::InvalidArgument("exactly_once needs the output on kafka");
  auto impl = std::make_unique<Impl>();
  const spec::KafkaSpec& out = *pipeline.output->kafka;
  impl->output_topic = out.topic;
  std::vector<std::string> topics = {out.topic};
  if (pipeline.dead_letter && pipeline.dead_letter->kafka) {
    impl->dead_topic = pipeline.dead_letter->kafka->topic;
    topics.push_back(impl->dead_topic);
  }
  auto p = ReportingProducer::Create(out, std::move(topics), transactional_id);
  if (!p.ok()) return p.status();
  impl->p = std::move(*p);
  io::KafkaProducer* producer = impl->p->producer.get();
  // Fences this instance's previous incarnation and aborts the transaction it left open.
  SLUICE_RETURN_IF_ERROR(
      RetryTxn(producer, [&] { return producer->InitTransactions(std::chrono::seconds(60)); }));
  SLUICE_RETURN_IF_ERROR(producer->BeginTransaction());
  return std::unique_ptr<OutputTransaction>(new OutputTransaction(std::move(impl)));
}

std::unique_ptr<Sink> OutputTransaction::OutputSink() {
  return std::make_unique<KafkaSink>(impl_->p, impl_->output_topic, true);
}

std::unique_ptr<Sink> OutputTransaction::DeadLetterSink() {
  if (impl_->dead_topic.empty()) return nullptr;
  return std::make_unique<KafkaSink>(impl_->p, impl_->dead_topic, true);
}

Status OutputTransaction::Commit(Source* source) {
  io::KafkaProducer* producer = impl_->p->producer.get();
  SLUICE_RETURN_IF_ERROR(source->AddOffsetsTo(producer));
  SLUICE_RETURN_IF_ERROR(
      RetryTxn(producer, [&] { return producer->CommitTransaction(std::chrono::seconds(60)); }));
  SLUICE_RETURN_IF_ERROR(impl_->p->TakeError());
  SLUICE_RETURN_IF_ERROR(source->Delivered(false));
  return producer->BeginTransaction();
}

Result<std::unique_ptr<Source>> OpenSource(const spec::Pipeline& p, const SourceOptions& o) {
  if (o.input.empty() && p.source.kafka) return KafkaSource::Open(p);
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
  if (path.empty() && kafka) return OpenKafkaSink(*kafka);
  if (path.empty() && fallback.empty()) return std::unique_ptr<Sink>(new NullSink());
  auto w = io::FileWriter::Create(path.empty() ? fallback : path);
  if (!w.ok()) return w.status();
  return std::unique_ptr<Sink>(new FileSink(std::move(*w)));
}

}  // namespace sluice::engine
