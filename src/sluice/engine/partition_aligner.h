#pragma once
// Event-time alignment of Kafka partitions (docs/operations.md, "Log order on Kafka").
//
// librdkafka hands out a partition's fetched messages in runs: thousands of one partition, then
// thousands of the next. A feature whose key spans partitions (a merchant's events in a topic
// keyed by card) then sees events far out of event-time order, and those older than
// allowed_lateness are dead-lettered `late`. The aligner buffers what was polled per partition,
// reads each record's event time (the pipeline's own decoder), and hands records out
// smallest-event-time-first across partitions, each partition still in offset order (SPEC.md §3:
// per-partition offset order is the contract; how partitions interleave is the engine's choice).
//
// A record may only go out when no other partition can still deliver an older one: every other
// partition either has a buffered head, or has nothing left to fetch right now (caught up with
// its high watermark), or has been empty for longer than `idle` (a slow or stuck partition must
// not stall the others: Flink's source idleness). A partition that has had no record since it
// was assigned gets `first_idle` instead: its first fetch (offset lookup, then fetch, perhaps
// from another broker) can come well after the others' on a busy machine. A record whose time
// cannot be read (it will be a dead letter) takes its partition's previous time, so it goes out in
// place.
//
// Memory is bounded by the caller: buffered_bytes() per partition tells when to pause it.
// Records stay in librdkafka's fetch buffers (the aligner holds the messages, no copy): a copy
// per record cost a malloc, and first-touch page faults as the buffers grew, 8-14% of
// `sluice run` on Kafka.
// Not thread-safe: the source thread owns it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/value.h"
#include "sluice/io/arena.h"
#include "sluice/io/decoder.h"
#include "sluice/io/kafka_consumer.h"
#include "sluice/spec/pipeline.h"

namespace sluice::engine {

class PartitionAligner {
 public:
  using Clock = std::chrono::steady_clock;
  struct Message {
    int64_t offset = 0;
    int64_t time_us = 0;
    std::string_view value;  // valid until its partition's next Pop
  };

  PartitionAligner(const spec::Pipeline& p, std::chrono::milliseconds idle,
                   std::chrono::milliseconds first_idle);

  void Assign(int32_t partition, Clock::time_point now);
  void Revoke(int32_t partition);  // drops what it buffered (not handed out, not committed)
  void Add(int32_t partition, io::KafkaMessage message, Clock::time_point now);

  // The partition whose head goes out next, or -1 when none may go now. `caught_up(p)`: p has
  // nothing more to fetch at the moment.
  int32_t Pick(const std::function<bool(int32_t)>& caught_up, Clock::time_point now) const;
  Message Head(int32_t partition) const;
  void Pop(int32_t partition);

  size_t buffered_bytes(int32_t partition) const;
  bool empty() const;

 private:
  struct Entry {
    int64_t offset, time_us;
    io::KafkaMessage message;
  };
  struct Partition {
    std::vector<Entry> entries;  // [head, size) are buffered
    size_t head = 0;
    size_t bytes = 0;  // of the buffered records' values
    bool empty() const { return head == entries.size(); }
    int64_t last_time_us = INT64_MIN;  // the newest time read from it (for unreadable records)
    Clock::time_point last_data;       // when it last had a buffered record, or was assigned
    bool had_data = false;             // since it was assigned
  };

  int64_t TimeOf(std::string_view value, int64_t fallback);
  static void Compact(Partition* part);

  std::chrono::milliseconds idle_, first_idle_;
  std::unique_ptr<io::Decoder> decoder_;
  std::vector<core::Value> values_;
  io::StringArena arena_;
  std::string padded_;  // the record being timed, followed by RecordReader::kPadding bytes
  std::map<int32_t, Partition> parts_;
};

}  // namespace sluice::engine
