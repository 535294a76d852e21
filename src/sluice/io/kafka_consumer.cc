#include "sluice/io/kafka_consumer.h"

#include <cstring>
#include <string_view>

namespace sluice::io {

namespace {

int TimeoutMs(std::chrono::milliseconds t) { return static_cast<int>(t.count()); }

bool Cooperative(rd_kafka_t* rk) {
  return std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
}

}  // namespace

KafkaBatch& KafkaBatch::operator=(KafkaBatch&& o) noexcept {
  if (this != &o) {
    Clear();
    msgs_ = std::move(o.msgs_);
    o.msgs_.clear();
  }
  return *this;
}

void KafkaBatch::Clear() {
  for (rd_kafka_message_t* m : msgs_) {
    if (m) rd_kafka_message_destroy(m);
  }
  msgs_.clear();  // keeps capacity: the next Poll() allocates nothing
}

KafkaMessageView KafkaBatch::operator[](size_t i) const { return View(msgs_[i]); }

KafkaMessageView KafkaBatch::View(const rd_kafka_message_t* m) {
  KafkaMessageView v;
  v.topic = rd_kafka_topic_name(m->rkt);
  v.partition = m->partition;
  v.offset = KafkaOffset{m->offset};
  v.has_key = m->key != nullptr;
  v.has_value = m->payload != nullptr;
  if (v.has_key) v.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
  if (v.has_value) v.value = std::string_view(static_cast<const char*>(m->payload), m->len);
  rd_kafka_timestamp_type_t type;
  v.timestamp_ms = rd_kafka_message_timestamp(m, &type);
  return v;
}

core::Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(KafkaConsumerOptions options) {
  // librdkafka needs a group even for manual assignment (and commits need one anyway).
  if (options.group.empty()) return core::Status::InvalidArgument("kafka consumer: no group");
  auto conf = BuildKafkaConf(KafkaRole::kConsumer, options.brokers, options.group, options.config);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<KafkaConsumer> c(new KafkaConsumer(std::move(options)));
  rd_kafka_conf_set_opaque(conf->get(), c.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaConsumer::RebalanceCb);
  char err[512];
  // rd_kafka_new owns the conf only when it succeeds.
  c->rk_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof(err)));
  if (!c->rk_) return core::Status::InvalidArgument(std::string("kafka consumer: ") + err);
  (void)conf->release();
  // Logs, errors and stats go through the consumer queue, so Poll() alone serves everything.
  rd_kafka_poll_set_consumer(c->rk_.get());
  c->queue_.reset(rd_kafka_queue_get_consumer(c->rk_.get()));
  if (!c->options_.topics.empty()) {
    KafkaPartitionList list(rd_kafka_topic_partition_list_new(c->options_.topics.size()));
    for (const auto& t : c->options_.topics) {
      rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    SLUICE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_subscribe(c->rk_.get(), list.get()), "subscribe"));
  }
  return c;
}

KafkaConsumer::~KafkaConsumer() { (void)Close(); }

core::Status KafkaConsumer::Close() {
  if (closed_ || !rk_) return core::Status::Ok();
  closed_ = true;
  return KafkaStatus(rd_kafka_consumer_close(rk_.get()), "kafka consumer close");
}

core::Status KafkaConsumer::Poll(KafkaBatch* batch, size_t max_messages,
                                 std::chrono::milliseconds timeout) {
  batch->Clear();
  if (max_messages == 0) return core::Status::Ok();
  rd_kafka_message_t* first = rd_kafka_consumer_poll(rk_.get(), TimeoutMs(timeout));
  if (first) {
    auto& v = batch->msgs_;
    v.push_back(first);
    const size_t have = v.size();
    v.resize(max_messages);  // within the capacity kept from earlier polls: no allocation
    const ssize_t n =
        max_messages > have
            ? rd_kafka_consume_batch_queue(queue_.get(), 0, v.data() + have, max_messages - have)
            : 0;
    v.resize(have + (n > 0 ? static_cast<size_t>(n) : 0));
  }
  if (!rebalance_error_.ok()) return std::move(rebalance_error_);
  return Filter(batch);
}

// Error events arrive as messages with err set; they are not data. Only a fatal error ends the
// consumer; the rest (broker down, partition EOF) are retried or informational.
core::Status KafkaConsumer::Filter(KafkaBatch* batch) {
  auto& v = batch->msgs_;
  size_t out = 0;
  core::Status st;
  for (rd_kafka_message_t* m : v) {
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      v[out++] = m;
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__FATAL && st.ok()) {
      char reason[512];
      const rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason));
      st = KafkaStatus(fatal, std::string("kafka consumer fatal error: ") + reason);
    }
    rd_kafka_message_destroy(m);
  }
  v.resize(out);
  return st;
}

void KafkaConsumer::RebalanceCb(rd_kafka_t*, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* parts, void* opaque) {
  static_cast<KafkaConsumer*>(opaque)->OnRebalance(err, parts);
}

void KafkaConsumer::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::vector<TopicPartitionOffset> start;
    if (options_.listener) options_.listener->OnAssigned(FromList(parts), &start);
    for (const auto& s : start) {
      auto* e = rd_kafka_topic_partition_list_find(parts, s.topic.c_str(), s.partition);
      if (e) e->offset = s.offset.value;
    }
    rebalance_error_ = ApplyAssignment(parts, true);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    if (options_.listener) {
      options_.listener->OnRevoked(FromList(parts), rd_kafka_assignment_lost(rk_.get()) != 0);
    }
  }
  // Revocation, or a rebalance error: give the partitions up so the group can move on.
  core::Status st = ApplyAssignment(parts, false);
  if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) st = KafkaStatus(err, "kafka rebalance");
  if (!st.ok()) rebalance_error_ = std::move(st);
}

core::Status KafkaConsumer::ApplyAssignment(rd_kafka_topic_partition_list_t* parts, bool assign) {
  if (Cooperative(rk_.get())) {
    return KafkaStatus(assign ? rd_kafka_incremental_assign(rk_.get(), parts)
                              : rd_kafka_incremental_unassign(rk_.get(), parts),
                       "kafka incremental assignment");
  }
  return KafkaStatus(rd_kafka_assign(rk_.get(), assign ? parts : nullptr), "kafka assignment");
}

namespace {

bool GroupChanging(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION || err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID;
}

}  // namespace

core::Status KafkaConsumer::CommitSync(std::span<const TopicPartitionOffset> offsets,
                                       bool* group_changing) {
  if (group_changing) *group_changing = false;
  if (offsets.empty()) return core::Status::Ok();
  KafkaPartitionList list = ToList(offsets);
  const rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), list.get(), 0);
  if (group_changing) *group_changing = GroupChanging(err);
  SLUICE_RETURN_IF_ERROR(KafkaStatus(err, "kafka commit"));
  return FirstPartitionError(list.get(), "kafka commit");
}

void KafkaConsumer::CommitCb(rd_kafka_t*, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  if (GroupChanging(err)) return;  // committed again by the caller's next CommitSync
  core::Status st = KafkaStatus(err, "kafka async commit");
  if (st.ok()) st = FirstPartitionError(offsets, "kafka async commit");
  if (!st.ok()) self->async_commit_error_ = std::move(st);
}

core::Status KafkaConsumer::CommitAsync(std::span<const TopicPartitionOffset> offsets) {
  if (offsets.empty()) return core::Status::Ok();
  KafkaPartitionList list = ToList(offsets);
  // The result is queued on the consumer queue, so CommitCb runs inside a later Poll().
  return KafkaStatus(
      rd_kafka_commit_queue(rk_.get(), list.get(), queue_.get(), &KafkaConsumer::CommitCb, this),
      "kafka async commit");
}

core::Status KafkaConsumer::TakeAsyncCommitError() { return std::move(async_commit_error_); }

core::Result<std::vector<TopicPartitionOffset>> KafkaConsumer::Committed(
    std::span<const TopicPartition> parts, std::chrono::milliseconds timeout) {
  KafkaPartitionList list = ToList(parts);
  SLUICE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_committed(rk_.get(), list.get(), TimeoutMs(timeout)),
                                     "kafka committed"));
  SLUICE_RETURN_IF_ERROR(FirstPartitionError(list.get(), "kafka committed"));
  return OffsetsFromList(list.get());
}

core::Status KafkaConsumer::Assign(std::span<const TopicPartitionOffset> start) {
  KafkaPartitionList list = ToList(start);
  return KafkaStatus(rd_kafka_assign(rk_.get(), list.get()), "kafka assign");
}

core::Status KafkaConsumer::Seek(std::span<const TopicPartitionOffset> offsets,
                                 std::chrono::milliseconds timeout) {
  KafkaPartitionList list = ToList(offsets);
  SLUICE_RETURN_IF_ERROR(KafkaStatus(
      rd_kafka_seek_partitions(rk_.get(), list.get(), TimeoutMs(timeout)), "kafka seek"));
  return FirstPartitionError(list.get(), "kafka seek");
}

core::Status KafkaConsumer::Pause(std::span<const TopicPartition> parts) {
  KafkaPartitionList list = ToList(parts);
  SLUICE_RETURN_IF_ERROR(
      KafkaStatus(rd_kafka_pause_partitions(rk_.get(), list.get()), "kafka pause"));
  return FirstPartitionError(list.get(), "kafka pause");
}

core::Status KafkaConsumer::Resume(std::span<const TopicPartition> parts) {
  KafkaPartitionList list = ToList(parts);
  SLUICE_RETURN_IF_ERROR(
      KafkaStatus(rd_kafka_resume_partitions(rk_.get(), list.get()), "kafka resume"));
  return FirstPartitionError(list.get(), "kafka resume");
}

std::vector<TopicPartition> KafkaConsumer::Assignment() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  KafkaPartitionList list(raw);
  return FromList(list.get());
}

std::vector<PartitionLag> KafkaConsumer::Lag() const {
  std::vector<PartitionLag> out;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  KafkaPartitionList list(raw);
  (void)rd_kafka_position(rk_.get(), list.get());
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    PartitionLag l{e.topic, e.partition};
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(rk_.get(), e.topic, e.partition, &low, &high) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      l.high_watermark = high;
      l.low_watermark = low;
    }
    if (e.offset >= 0) l.position = e.offset;
    if (l.high_watermark >= 0 && l.position >= 0) l.lag = std::max<int64_t>(0, high - l.position);
    out.push_back(std::move(l));
  }
  return out;
}

core::Result<std::pair<int64_t, int64_t>> KafkaConsumer::QueryWatermarks(
    const TopicPartition& tp, std::chrono::milliseconds timeout) {
  int64_t low = -1, high = -1;
  SLUICE_RETURN_IF_ERROR(
      KafkaStatus(rd_kafka_query_watermark_offsets(rk_.get(), tp.topic.c_str(), tp.partition, &low,
                                                   &high, TimeoutMs(timeout)),
                  "kafka watermarks of " + tp.topic + "/" + std::to_string(tp.partition)));
  return std::make_pair(low, high);
}

std::pair<int64_t, int64_t> KafkaConsumer::CachedWatermarks(const TopicPartition& tp) const {
  int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(rk_.get(), tp.topic.c_str(), tp.partition, &low, &high) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {-1, -1};
  }
  return {low, high};
}

core::Result<KafkaGroupMetadata> KafkaConsumer::GroupMetadata() const {
  KafkaGroupMetadata md(rd_kafka_consumer_group_metadata(rk_.get()));
  if (!md) return core::Status::InvalidArgument("kafka consumer: no group metadata (no group.id)");
  return md;
}

}  // namespace sluice::io
