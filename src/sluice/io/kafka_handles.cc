#include "sluice/io/kafka_handles.h"

#include <string>

namespace sluice::io {

core::Status KafkaStatus(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return core::Status::Ok();
  return core::Status::IoError(std::string(what) + ": " + rd_kafka_err2name(err) + ": " +
                               rd_kafka_err2str(err));
}

core::Status KafkaStatus(rd_kafka_error_t* err, std::string_view what) {
  KafkaError owned(err);
  if (!owned) return core::Status::Ok();
  return core::Status::IoError(std::string(what) + ": " + rd_kafka_error_name(err) + ": " +
                               rd_kafka_error_string(err));
}

KafkaPartitionList ToList(std::span<const TopicPartition> parts) {
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
  for (const auto& p : parts)
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
  return list;
}

KafkaPartitionList ToList(std::span<const TopicPartitionOffset> parts) {
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
  for (const auto& p : parts) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset =
        p.offset.value;
  }
  return list;
}

std::vector<TopicPartition> FromList(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (!list) return out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

std::vector<TopicPartitionOffset> OffsetsFromList(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartitionOffset> out;
  if (!list) return out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    out.push_back({e.topic, e.partition, KafkaOffset{e.offset}});
  }
  return out;
}

core::Status FirstPartitionError(const rd_kafka_topic_partition_list_t* list,
                                 std::string_view what) {
  for (int i = 0; list && i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err) {
      return KafkaStatus(
          e.err, std::string(what) + " " + e.topic + "[" + std::to_string(e.partition) + "]");
    }
  }
  return core::Status::Ok();
}

}  // namespace sluice::io
