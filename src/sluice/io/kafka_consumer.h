#pragma once
// KafkaConsumer: a consumer-group member reading batches of messages, with offsets committed only
// when the caller says so (the runtime commits what its outputs have delivered).
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/io/kafka_config.h"
#include "sluice/io/kafka_handles.h"
#include "sluice/io/kafka_types.h"

namespace sluice::io {

// Told by the consumer, from inside KafkaConsumer::Poll() (or Close()) on the polling thread,
// when the group moves partitions. Both calls happen before the change takes effect.
class KafkaRebalanceListener {
 public:
  virtual ~KafkaRebalanceListener() = default;
  // `parts` are being given to this member. Append to `start` where a partition must resume
  // (e.g. the offsets of the runtime's checkpoint); the others resume at the group's committed
  // offset, else at auto.offset.reset.
  virtual void OnAssigned(const std::vector<TopicPartition>& parts,
                          std::vector<TopicPartitionOffset>* start) = 0;
  // `parts` are being taken away: finish their in-flight events, flush their outputs and
  // CommitSync() their offsets before returning; no message of theirs is returned afterwards.
  // `lost` means the group already gave them to another member (commits will fail).
  virtual void OnRevoked(const std::vector<TopicPartition>& parts, bool lost) = 0;
};

struct KafkaConsumerOptions {
  std::string brokers;                         // bootstrap.servers, "host:port,..."
  std::string group;                           // group.id; required (also for Assign())
  std::vector<std::string> topics;             // subscribed at Create(); empty: Assign() by hand
  KafkaProperties config;                      // the spec's config: map, passed through
  KafkaRebalanceListener* listener = nullptr;  // not owned; must outlive the consumer
};

// The messages of one Poll(). Owns each rd_kafka_message_t until Clear(), the next Poll() into
// it, or destruction, so the views it hands out need no copy; keeping a batch alive also keeps
// librdkafka's fetch buffers alive, so hold a batch only as long as its events are in flight.
// Reused across polls, it allocates nothing per message. Move-only; thread-compatible.
class KafkaBatch {
 public:
  KafkaBatch() = default;
  KafkaBatch(KafkaBatch&& o) noexcept : msgs_(std::move(o.msgs_)) { o.msgs_.clear(); }
  KafkaBatch& operator=(KafkaBatch&& o) noexcept;
  KafkaBatch(const KafkaBatch&) = delete;
  KafkaBatch& operator=(const KafkaBatch&) = delete;
  ~KafkaBatch() { Clear(); }

  size_t size() const { return msgs_.size(); }
  bool empty() const { return msgs_.empty(); }
  KafkaMessageView operator[](size_t i) const;
  // Message i, which the batch no longer owns (its view here is then invalid). The handle must
  // be destroyed before the consumer (it holds librdkafka's fetch buffer, not a copy).
  KafkaMessage Take(size_t i) { return KafkaMessage(std::exchange(msgs_[i], nullptr)); }
  static KafkaMessageView View(const rd_kafka_message_t* m);
  void Clear();

 private:
  friend class KafkaConsumer;
  std::vector<rd_kafka_message_t*> msgs_;  // owned; null once taken
};

// Thread-safety: thread-compatible, used by one thread at a time (the runtime's source thread);
// the rebalance listener runs on that thread inside Poll() and Close(). Lag() reads only
// librdkafka's thread-safe state but should still be called from that thread.
class KafkaConsumer {
 public:
  static core::Result<std::unique_ptr<KafkaConsumer>> Create(KafkaConsumerOptions options);
  ~KafkaConsumer();  // Close()s if the caller did not
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  // Clears `batch`, then waits up to `timeout` for a first message and takes up to
  // `max_messages` in all of what is already fetched. Rebalances are served here. Empty on
  // timeout. Fails only on a fatal client error; transient broker errors are retried inside.
  core::Status Poll(KafkaBatch* batch, size_t max_messages, std::chrono::milliseconds timeout);

  // Commits exactly `offsets` (next offset to read = last delivered + 1) for the group; nothing
  // else is ever committed. CommitAsync's failures are kept for TakeAsyncCommitError(), except
  // those of a group that is changing (a rebalance in progress, a stale generation or member):
  // nothing was committed then, and the caller commits the offsets again later. CommitSync
  // reports those with `*group_changing` set when it is given.
  core::Status CommitSync(std::span<const TopicPartitionOffset> offsets,
                          bool* group_changing = nullptr);
  core::Status CommitAsync(std::span<const TopicPartitionOffset> offsets);
  core::Status TakeAsyncCommitError();
  // The group's committed offsets of `parts` (KafkaOffset::Invalid() when none).
  core::Result<std::vector<TopicPartitionOffset>> Committed(std::span<const TopicPartition> parts,
                                                            std::chrono::milliseconds timeout);

  // Manual assignment at given offsets, outside group management (replaces any assignment).
  core::Status Assign(std::span<const TopicPartitionOffset> start);
  // Moves assigned partitions' next fetch to `offsets` (restoring a checkpoint mid-assignment).
  core::Status Seek(std::span<const TopicPartitionOffset> offsets,
                    std::chrono::milliseconds timeout);
  // Backpressure: a paused partition fetches nothing; messages of it already fetched but not yet
  // returned are dropped by librdkafka and fetched again after Resume().
  core::Status Pause(std::span<const TopicPartition> parts);
  core::Status Resume(std::span<const TopicPartition> parts);

  std::vector<TopicPartition> Assignment() const;
  // Per assigned partition: high watermark (as of the last fetch) − position (the next offset
  // Poll() will return), for sluice_kafka_consumer_lag{topic,partition}. No broker round trip.
  std::vector<PartitionLag> Lag() const;
  // Asks the partition's leader for its low (log start) and high watermarks: the first offset
  // still in the log, and the next offset to be written.
  core::Result<std::pair<int64_t, int64_t>> QueryWatermarks(const TopicPartition& tp,
                                                            std::chrono::milliseconds timeout);
  // The watermarks as of the partition's last fetch response (no round trip); -1s when unknown.
  std::pair<int64_t, int64_t> CachedWatermarks(const TopicPartition& tp) const;
  // For KafkaProducer::SendOffsetsToTransaction (exactly_once).
  core::Result<KafkaGroupMetadata> GroupMetadata() const;

  // Leaves the group (revoking through the listener). Idempotent.
  core::Status Close();

 private:
  explicit KafkaConsumer(KafkaConsumerOptions options) : options_(std::move(options)) {}
  static void RebalanceCb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* parts, void* opaque);
  static void CommitCb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* offsets, void* opaque);
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  core::Status ApplyAssignment(rd_kafka_topic_partition_list_t* parts, bool assign);
  core::Status Filter(KafkaBatch* batch);

  KafkaConsumerOptions options_;
  KafkaHandle rk_;
  KafkaQueue queue_;  // the consumer queue: messages, rebalances, async commit results
  core::Status async_commit_error_;
  core::Status rebalance_error_;
  bool closed_ = false;
};

}  // namespace sluice::io
