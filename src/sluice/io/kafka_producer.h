#pragma once
// KafkaProducer: idempotent (optionally transactional) producer of keyed messages, reporting each
// message's delivery with the caller's token so the runtime knows which input offsets are safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/io/kafka_config.h"
#include "sluice/io/kafka_consumer.h"
#include "sluice/io/kafka_handles.h"
#include "sluice/io/kafka_types.h"

namespace sluice::io {

// One message's outcome. Views are valid only during the callback.
struct KafkaDelivery {
  uint64_t token = 0;  // as given to Produce()
  std::string_view topic;
  int32_t partition = -1;
  KafkaOffset offset;   // where it landed (status ok)
  core::Status status;  // ok = persisted per acks; costs nothing when ok
};
using KafkaDeliveryCallback = std::function<void(const KafkaDelivery&)>;

// What a failed transactional call requires next (librdkafka's error classes).
enum class KafkaTxnError {
  kNone,
  kRetriable,  // call the same method again
  kAbortable,  // AbortTransaction(), then start over from the last checkpoint
  kFatal,      // the producer is unusable: destroy it, make a new one (fences zombies)
};

struct KafkaProducerOptions {
  std::string brokers;                // bootstrap.servers
  KafkaProperties config;             // the spec's config: map, passed through
  std::vector<std::string> topics;    // topics produced to; handles made once, up front
  std::string transactional_id;       // non-empty: transactional producer (exactly_once: true)
  KafkaDeliveryCallback on_delivery;  // may be empty
  std::chrono::milliseconds queue_full_wait{60000};  // Produce() blocks this long at most
};

// Thread-safety: Produce() and OutstandingCount() may be called from any thread at once. Poll(),
// Flush() and the transaction methods belong to one thread. `on_delivery` runs on whichever
// thread is in Poll(), Flush(), or a Produce() waiting on a full queue, so it must be
// thread-safe if Produce() is called from several threads.
class KafkaProducer {
 public:
  static core::Result<std::unique_ptr<KafkaProducer>> Create(KafkaProducerOptions options);
  // Messages not yet delivered are dropped without reports: Flush() first.
  ~KafkaProducer() = default;
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues one message (bytes copied). Partition: librdkafka's default partitioner on the key
  // (an empty key = a null key, spread over partitions). `timestamp_ms` 0 = now. When the local
  // queue is full it serves delivery reports and waits (backpressure), up to queue_full_wait.
  core::Status Produce(std::string_view topic, std::string_view key, std::string_view value,
                       uint64_t token, int64_t timestamp_ms = 0);
  // Serves delivery reports; returns how many events were served.
  int Poll(std::chrono::milliseconds timeout);
  // Waits until every queued message is delivered or failed (reports are served).
  core::Status Flush(std::chrono::milliseconds timeout);
  size_t OutstandingCount() const;
  // Ok unless the producer hit a fatal error (e.g. idempotence guarantees broken).
  core::Status FatalError() const;

  // Transactions (transactional_id set). Each failure sets last_txn_error() to what comes next.
  core::Status InitTransactions(std::chrono::milliseconds timeout);
  core::Status BeginTransaction();
  // Commits the consumer's `offsets` (next to read) atomically with this transaction's messages.
  core::Status SendOffsetsToTransaction(std::span<const TopicPartitionOffset> offsets,
                                        const KafkaConsumer& consumer,
                                        std::chrono::milliseconds timeout);
  core::Status CommitTransaction(std::chrono::milliseconds timeout);
  core::Status AbortTransaction(std::chrono::milliseconds timeout);
  KafkaTxnError last_txn_error() const { return last_txn_error_; }

 private:
  explicit KafkaProducer(KafkaProducerOptions options) : options_(std::move(options)) {}
  static void DeliveryCb(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  rd_kafka_topic_t* FindTopic(std::string_view topic) const;
  core::Status Txn(rd_kafka_error_t* err, std::string_view what);

  KafkaProducerOptions options_;
  KafkaHandle rk_;
  std::vector<std::pair<std::string, KafkaTopicHandle>> topics_;  // immutable after Create()
  KafkaTxnError last_txn_error_ = KafkaTxnError::kNone;
};

}  // namespace sluice::io
