#pragma once
// Value types shared by the Kafka consumer and producer: offsets, partitions, message views.
// Plain values; thread-compatible.
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/status.h"

namespace sluice::io {

// A Kafka offset, kept apart from partitions, timestamps and counts by its type (STYLE.md §5).
// In commits and seeks it is Kafka's "next offset to read" (last processed + 1).
struct KafkaOffset {
  int64_t value = -1;
  auto operator<=>(const KafkaOffset&) const = default;
  KafkaOffset Next() const { return KafkaOffset{value + 1}; }
  // librdkafka's logical offsets (RD_KAFKA_OFFSET_*), for seeks and assignments.
  static constexpr KafkaOffset Beginning() { return KafkaOffset{-2}; }
  static constexpr KafkaOffset End() { return KafkaOffset{-1}; }
  static constexpr KafkaOffset Stored() { return KafkaOffset{-1000}; }  // committed, else reset
  static constexpr KafkaOffset Invalid() { return KafkaOffset{-1001}; }
};

struct TopicPartition {
  std::string topic;
  int32_t partition = -1;
  bool operator==(const TopicPartition&) const = default;
};

struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = -1;
  KafkaOffset offset;  // next offset to read
  bool operator==(const TopicPartitionOffset&) const = default;
};

// One consumed message, borrowed from the KafkaBatch that holds it: every view (topic, key,
// value) points into librdkafka's buffers and is valid until that batch is cleared, refilled or
// destroyed. Copy what must outlive the batch.
struct KafkaMessageView {
  std::string_view topic;
  int32_t partition = -1;
  KafkaOffset offset;         // this message's own offset (commit offset.Next() once delivered)
  std::string_view key;       // empty when the message has no key
  std::string_view value;     // empty for a null (tombstone) value
  int64_t timestamp_ms = -1;  // producer CreateTime or broker LogAppendTime; -1 when absent
  bool has_key = false;
  bool has_value = false;
};

// Consumer lag of one assigned partition: high watermark − position (both "next offset" values).
struct PartitionLag {
  std::string topic;
  int32_t partition = -1;
  int64_t high_watermark = -1;  // -1: not fetched yet
  int64_t low_watermark = -1;   // the log start as of the last fetch; -1: not fetched yet
  int64_t position = -1;        // -1: nothing consumed yet (then lag counts from low watermark)
  int64_t lag = -1;             // -1: unknown
};

}  // namespace sluice::io
