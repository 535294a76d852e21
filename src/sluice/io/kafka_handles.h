#pragma once
// RAII owners for librdkafka's C handles and the mapping of its errors onto core::Status.
// No other Sluice code holds a naked rd_kafka_* pointer beyond a call. Thread-compatible.
#include <librdkafka/rdkafka.h>

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/io/kafka_types.h"

namespace sluice::io {

struct KafkaDeleter {
  // Destroys the client. A consumer must have been closed first (KafkaConsumer does it).
  void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
  void operator()(rd_kafka_conf_t* p) const { rd_kafka_conf_destroy(p); }
  void operator()(rd_kafka_topic_t* p) const { rd_kafka_topic_destroy(p); }
  void operator()(rd_kafka_queue_t* p) const { rd_kafka_queue_destroy(p); }
  void operator()(rd_kafka_message_t* p) const { rd_kafka_message_destroy(p); }
  void operator()(rd_kafka_error_t* p) const { rd_kafka_error_destroy(p); }
  void operator()(rd_kafka_topic_partition_list_t* p) const {
    rd_kafka_topic_partition_list_destroy(p);
  }
  void operator()(rd_kafka_consumer_group_metadata_t* p) const {
    rd_kafka_consumer_group_metadata_destroy(p);
  }
};

using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using KafkaTopicHandle = std::unique_ptr<rd_kafka_topic_t, KafkaDeleter>;
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, KafkaDeleter>;
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, KafkaDeleter>;
using KafkaError = std::unique_ptr<rd_kafka_error_t, KafkaDeleter>;
using KafkaPartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;
using KafkaGroupMetadata = std::unique_ptr<rd_kafka_consumer_group_metadata_t, KafkaDeleter>;

// Ok for RD_KAFKA_RESP_ERR_NO_ERROR, else IoError "`what`: <librdkafka's name>: <description>".
core::Status KafkaStatus(rd_kafka_resp_err_t err, std::string_view what);
// Takes ownership of `err` (may be null = ok).
core::Status KafkaStatus(rd_kafka_error_t* err, std::string_view what);

KafkaPartitionList ToList(std::span<const TopicPartition> parts);
KafkaPartitionList ToList(std::span<const TopicPartitionOffset> parts);
std::vector<TopicPartition> FromList(const rd_kafka_topic_partition_list_t* list);
std::vector<TopicPartitionOffset> OffsetsFromList(const rd_kafka_topic_partition_list_t* list);
// The first per-partition error in `list`, or ok.
core::Status FirstPartitionError(const rd_kafka_topic_partition_list_t* list,
                                 std::string_view what);

}  // namespace sluice::io
