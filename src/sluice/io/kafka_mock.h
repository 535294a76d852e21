#pragma once
// KafkaMockCluster: librdkafka's in-process mock Kafka cluster (rdkafka_mock.h) behind RAII, with
// the fault-injection commands of `sluice kafka-dev`. For development and tests only: it keeps
// everything in memory and implements enough of the protocol for librdkafka clients and kcat.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/core/status.h"
#include "sluice/io/kafka_handles.h"

struct rd_kafka_mock_cluster_s;

namespace sluice::io {

// Thread-safety: the mock runs its brokers on its own thread; these methods hand it commands and
// may be called from any one thread at a time.
class KafkaMockCluster {
 public:
  static core::Result<std::unique_ptr<KafkaMockCluster>> Create(int brokers);
  ~KafkaMockCluster();
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  // "127.0.0.1:PORT,..." for bootstrap.servers.
  const std::string& bootstrap_servers() const { return bootstraps_; }
  int broker_count() const { return brokers_; }

  core::Status CreateTopic(const std::string& topic, int partitions);
  core::Status SetBrokerDown(int32_t broker);
  core::Status SetBrokerUp(int32_t broker);
  core::Status SetLeader(const std::string& topic, int32_t partition, int32_t broker);
  core::Status SetRtt(int32_t broker, int rtt_ms);
  // The next `count` requests of `api` (a Kafka API name like Produce, or its number) fail with
  // `error` (a Kafka error name like NOT_LEADER_OR_FOLLOWER, or its number).
  core::Status PushRequestErrors(std::string_view api, size_t count, std::string_view error);

  // One line of kafka-dev's command language (sluice kafka-dev --help lists it).
  core::Status Execute(std::string_view line);

 private:
  KafkaMockCluster() = default;

  KafkaHandle rk_;                           // the client handle the mock cluster hangs off
  rd_kafka_mock_cluster_s* mock_ = nullptr;  // owned; destroyed before rk_
  std::string bootstraps_;
  int brokers_ = 0;
};

}  // namespace sluice::io
