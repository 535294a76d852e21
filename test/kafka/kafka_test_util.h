#pragma once
// Helpers for the Kafka tests: a fresh mock cluster per test, producing and draining topics.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/io/kafka_consumer.h"
#include "sluice/io/kafka_mock.h"
#include "sluice/io/kafka_producer.h"

namespace sluice::io::testing {

using std::chrono::milliseconds;

struct Consumed {
  int32_t partition;
  int64_t offset;
  std::string key;
  std::string value;
};

// Records rebalances and can hand out start offsets, as the runtime's checkpoint restore does.
class RecordingListener : public KafkaRebalanceListener {
 public:
  void OnAssigned(const std::vector<TopicPartition>& parts,
                  std::vector<TopicPartitionOffset>* start) override {
    for (const auto& p : parts) assigned.push_back(p);
    for (const auto& s : start_offsets) start->push_back(s);
  }
  void OnRevoked(const std::vector<TopicPartition>& parts, bool lost) override {
    for (const auto& p : parts) revoked.push_back(p);
  }
  std::vector<TopicPartition> assigned, revoked;
  std::vector<TopicPartitionOffset> start_offsets;
};

class KafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = KafkaMockCluster::Create(3);
    ASSERT_TRUE(c.ok()) << c.status().message();
    cluster_ = std::move(*c);
  }
  const std::string& Brokers() const { return cluster_->bootstrap_servers(); }

  std::unique_ptr<KafkaProducer> MakeProducer(KafkaProducerOptions o = {}) {
    o.brokers = Brokers();
    if (!o.on_delivery) {
      o.on_delivery = [this](const KafkaDelivery& d) {
        std::lock_guard lock(mu_);
        if (d.status.ok())
          delivered_[d.token] = {d.partition, d.offset.value};
        else
          failed_.push_back(d.token);
      };
    }
    auto p = KafkaProducer::Create(std::move(o));
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? std::move(*p) : nullptr;
  }

  // Produces "v<i>" with key "k<i % keys>" and token i, for i in [first, first + n); flushes.
  void ProduceN(const std::string& topic, int first, int n, int keys = 10) {
    auto p = MakeProducer();
    ASSERT_TRUE(p);
    for (int i = first; i < first + n; ++i) {
      ASSERT_TRUE(
          p->Produce(topic, "k" + std::to_string(i % keys), "v" + std::to_string(i), i).ok());
    }
    ASSERT_TRUE(p->Flush(milliseconds(20000)).ok());
  }

  std::unique_ptr<KafkaConsumer> MakeConsumer(const std::string& group,
                                              std::vector<std::string> topics,
                                              KafkaRebalanceListener* listener = nullptr,
                                              KafkaProperties config = {}) {
    KafkaConsumerOptions o;
    o.brokers = Brokers();
    o.group = group;
    o.topics = std::move(topics);
    o.listener = listener;
    // The mock rebalances a group only after session timeout − 1 s when a member leaves (real
    // brokers do it at once), so keep the timeout short.
    o.config = {{"session.timeout.ms", "2500"}, {"heartbeat.interval.ms", "500"}};
    for (auto& kv : config) o.config.push_back(std::move(kv));
    auto c = KafkaConsumer::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::unique_ptr<KafkaMockCluster> cluster_;
  std::mutex mu_;
  std::map<uint64_t, std::pair<int32_t, int64_t>> delivered_;  // token -> partition, offset
  std::vector<uint64_t> failed_;

 public:
  // Polls until `n` messages arrived or `limit` passed.
  static std::vector<Consumed> Drain(KafkaConsumer* c, size_t n, milliseconds limit,
                                     size_t batch_max = 64) {
    std::vector<Consumed> out;
    KafkaBatch batch;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (out.size() < n && std::chrono::steady_clock::now() < end) {
      EXPECT_TRUE(c->Poll(&batch, std::min(batch_max, n - out.size()), milliseconds(100)).ok());
      for (size_t i = 0; i < batch.size(); ++i) {
        const KafkaMessageView m = batch[i];
        out.push_back({m.partition, m.offset.value, std::string(m.key), std::string(m.value)});
      }
    }
    return out;
  }
};

}  // namespace sluice::io::testing
