#include "sluice/io/kafka_producer.h"

#include <optional>
#include <thread>

namespace sluice::io {

namespace {
int TimeoutMs(std::chrono::milliseconds t) { return static_cast<int>(t.count()); }
}  // namespace

core::Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(KafkaProducerOptions options) {
  auto conf = BuildKafkaConf(KafkaRole::kProducer, options.brokers, "", options.config);
  if (!conf.ok()) return conf.status();
  if (!options.transactional_id.empty()) {
    char err[512];
    if (rd_kafka_conf_set(conf->get(), "transactional.id", options.transactional_id.c_str(), err,
                          sizeof(err)) != RD_KAFKA_CONF_OK) {
      return core::Status::InvalidArgument(std::string("kafka producer: ") + err);
    }
  }
  std::unique_ptr<KafkaProducer> p(new KafkaProducer(std::move(options)));
  rd_kafka_conf_set_opaque(conf->get(), p.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaProducer::DeliveryCb);
  char err[512];
  p->rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof(err)));
  if (!p->rk_) return core::Status::InvalidArgument(std::string("kafka producer: ") + err);
  (void)conf->release();
  for (const auto& t : p->options_.topics) {
    KafkaTopicHandle h(rd_kafka_topic_new(p->rk_.get(), t.c_str(), nullptr));
    if (!h) return KafkaStatus(rd_kafka_last_error(), "kafka topic " + t);
    p->topics_.emplace_back(t, std::move(h));
  }
  return p;
}

void KafkaProducer::DeliveryCb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  if (!self->options_.on_delivery) return;
  KafkaDelivery d;
  d.token = reinterpret_cast<uintptr_t>(m->_private);
  d.topic = rd_kafka_topic_name(m->rkt);
  d.partition = m->partition;
  d.offset = KafkaOffset{m->offset};
  if (m->err) d.status = KafkaStatus(m->err, "kafka delivery");
  self->options_.on_delivery(d);
}

rd_kafka_topic_t* KafkaProducer::FindTopic(std::string_view topic) const {
  for (const auto& [name, h] : topics_) {
    if (name == topic) return h.get();
  }
  return nullptr;
}

core::Status KafkaProducer::Produce(std::string_view topic, std::string_view key,
                                    std::string_view value, uint64_t token, int64_t timestamp_ms) {
  static_assert(sizeof(uintptr_t) >= sizeof(uint64_t), "tokens travel as a pointer");
  rd_kafka_topic_t* rkt = FindTopic(topic);
  std::optional<std::chrono::steady_clock::time_point> deadline;  // read the clock only if full
  void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(token));
  const void* key_ptr = key.empty() ? nullptr : key.data();
  for (;;) {
    rd_kafka_resp_err_t err;
    if (rkt) {
      err = rd_kafka_producev(
          rk_.get(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key_ptr, key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    } else {
      // Topics not named up front: librdkafka looks the name up per message.
      const std::string name(topic);
      err = rd_kafka_producev(
          rk_.get(), RD_KAFKA_V_TOPIC(name.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key_ptr, key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return core::Status::Ok();
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return KafkaStatus(err, "kafka produce to " + std::string(topic));
    }
    const auto now = std::chrono::steady_clock::now();
    if (!deadline) deadline = now + options_.queue_full_wait;
    if (now >= *deadline) return KafkaStatus(err, "kafka produce to " + std::string(topic));
    rd_kafka_poll(rk_.get(), 10);  // deliveries free queue space
  }
}

int KafkaProducer::Poll(std::chrono::milliseconds timeout) {
  return rd_kafka_poll(rk_.get(), TimeoutMs(timeout));
}

core::Status KafkaProducer::Flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), TimeoutMs(timeout));
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return core::Status::IoError("kafka flush: timed out with " +
                                 std::to_string(OutstandingCount()) + " messages outstanding");
  }
  return KafkaStatus(err, "kafka flush");
}

size_t KafkaProducer::OutstandingCount() const {
  return static_cast<size_t>(rd_kafka_outq_len(rk_.get()));
}

core::Status KafkaProducer::FatalError() const {
  char reason[512];
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason));
  return KafkaStatus(err, std::string("kafka producer fatal error: ") + reason);
}

core::Status KafkaProducer::Txn(rd_kafka_error_t* err, std::string_view what) {
  last_txn_error_ = KafkaTxnError::kNone;
  if (!err) return core::Status::Ok();
  if (rd_kafka_error_is_fatal(err)) {
    last_txn_error_ = KafkaTxnError::kFatal;
  } else if (rd_kafka_error_txn_requires_abort(err)) {
    last_txn_error_ = KafkaTxnError::kAbortable;
  } else if (rd_kafka_error_is_retriable(err)) {
    last_txn_error_ = KafkaTxnError::kRetriable;
  }
  return KafkaStatus(err, what);
}

core::Status KafkaProducer::InitTransactions(std::chrono::milliseconds timeout) {
  return Txn(rd_kafka_init_transactions(rk_.get(), TimeoutMs(timeout)), "kafka init transactions");
}

core::Status KafkaProducer::BeginTransaction() {
  return Txn(rd_kafka_begin_transaction(rk_.get()), "kafka begin transaction");
}

core::Status KafkaProducer::SendOffsetsToTransaction(std::span<const TopicPartitionOffset> offsets,
                                                     const KafkaConsumer& consumer,
                                                     std::chrono::milliseconds timeout) {
  auto md = consumer.GroupMetadata();
  if (!md.ok()) return md.status();
  KafkaPartitionList list = ToList(offsets);
  return Txn(
      rd_kafka_send_offsets_to_transaction(rk_.get(), list.get(), md->get(), TimeoutMs(timeout)),
      "kafka send offsets to transaction");
}

core::Status KafkaProducer::CommitTransaction(std::chrono::milliseconds timeout) {
  return Txn(rd_kafka_commit_transaction(rk_.get(), TimeoutMs(timeout)),
             "kafka commit transaction");
}

core::Status KafkaProducer::AbortTransaction(std::chrono::milliseconds timeout) {
  return Txn(rd_kafka_abort_transaction(rk_.get(), TimeoutMs(timeout)), "kafka abort transaction");
}

}  // namespace sluice::io
