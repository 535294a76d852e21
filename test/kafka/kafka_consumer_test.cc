// KafkaConsumer and KafkaProducer against librdkafka's in-process mock cluster.
#include <set>

#include "kafka_test_util.h"
#include "sluice/io/kafka_config.h"

namespace sluice::io::testing {
namespace {

TEST_F(KafkaTest, GroupConsumesEveryProducedMessageOnceWithStableKeyPartitions) {
  ASSERT_TRUE(cluster_->CreateTopic("events", 4).ok());
  ProduceN("events", 0, 500, 25);
  RecordingListener listener;
  auto c = MakeConsumer("g1", {"events"}, &listener);
  const auto got = Drain(c.get(), 500, milliseconds(15000));
  ASSERT_EQ(got.size(), 500u);
  std::set<std::string> values;
  std::map<std::string, int32_t> key_partition;
  std::map<int32_t, int64_t> last_offset;
  for (const auto& m : got) {
    EXPECT_TRUE(values.insert(m.value).second) << "duplicate " << m.value;
    auto [it, fresh] = key_partition.emplace(m.key, m.partition);
    EXPECT_EQ(it->second, m.partition) << "key " << m.key << " on two partitions";
    auto lo = last_offset.find(m.partition);
    if (lo != last_offset.end()) {
      EXPECT_EQ(m.offset, lo->second + 1) << "gap or reorder";
    }
    last_offset[m.partition] = m.offset;
  }
  EXPECT_GT(last_offset.size(), 1u) << "keys should spread over partitions";
  EXPECT_EQ(listener.assigned.size(), 4u);
  // Each delivery report put the message where the consumer found it.
  for (const auto& m : got) {
    const uint64_t token = std::stoull(m.value.substr(1));
    EXPECT_EQ(delivered_[token], std::make_pair(m.partition, m.offset));
  }
  ASSERT_TRUE(c->Close().ok());
  EXPECT_EQ(listener.revoked.size(), 4u) << "Close() revokes through the listener";
}

TEST_F(KafkaTest, DeliveryReportsCarryEveryTokenOnce) {
  ASSERT_TRUE(cluster_->CreateTopic("out", 3).ok());
  std::multiset<uint64_t> tokens;
  KafkaProducerOptions o;
  o.topics = {"out"};
  o.on_delivery = [&](const KafkaDelivery& d) {
    EXPECT_TRUE(d.status.ok()) << d.status.message();
    EXPECT_EQ(d.topic, "out");
    EXPECT_GE(d.offset.value, 0);
    tokens.insert(d.token);
  };
  auto p = MakeProducer(std::move(o));
  // Produce errors are retried by librdkafka (idempotently: no duplicates, no reordering).
  ASSERT_TRUE(cluster_->Execute("errors Produce 3 NOT_LEADER_OR_FOLLOWER").ok());
  for (uint64_t i = 0; i < 300; ++i) {
    ASSERT_TRUE(p->Produce("out", "key" + std::to_string(i % 7), "x", 1'000'000 + i).ok());
  }
  ASSERT_TRUE(p->Flush(milliseconds(20000)).ok());
  EXPECT_EQ(p->OutstandingCount(), 0u);
  ASSERT_EQ(tokens.size(), 300u);
  for (uint64_t i = 0; i < 300; ++i) EXPECT_EQ(tokens.count(1'000'000 + i), 1u) << i;
  EXPECT_TRUE(p->FatalError().ok());
}

TEST_F(KafkaTest, OnlyCommittedOffsetsAreResumedByTheGroup) {
  ASSERT_TRUE(cluster_->CreateTopic("t", 1).ok());
  ProduceN("t", 0, 100);
  const TopicPartition tp{"t", 0};
  {
    auto c = MakeConsumer("g2", {"t"});
    ASSERT_EQ(Drain(c.get(), 100, milliseconds(15000)).size(), 100u);
    // Everything was read, nothing delivered yet: nothing may be committed.
    auto before = c->Committed({&tp, 1}, milliseconds(5000));
    ASSERT_TRUE(before.ok()) << before.status().message();
    EXPECT_LT((*before)[0].offset.value, 0);
    // The runtime says offsets 0..39 were delivered: commit the next offset to read, 40.
    const TopicPartitionOffset done{"t", 0, KafkaOffset{40}};
    ASSERT_TRUE(c->CommitSync({&done, 1}).ok());
    auto after = c->Committed({&tp, 1}, milliseconds(5000));
    ASSERT_TRUE(after.ok());
    EXPECT_EQ((*after)[0].offset, KafkaOffset{40});
  }
  auto c2 = MakeConsumer("g2", {"t"});
  const auto rest = Drain(c2.get(), 60, milliseconds(15000));
  ASSERT_EQ(rest.size(), 60u);
  EXPECT_EQ(rest.front().offset, 40);
  EXPECT_EQ(rest.back().offset, 99);
  EXPECT_TRUE(Drain(c2.get(), 1, milliseconds(500)).empty()) << "nothing past the end";
}

TEST_F(KafkaTest, ListenerStartOffsetsOverrideTheGroupsAndAsyncCommitWorks) {
  ASSERT_TRUE(cluster_->CreateTopic("t", 2).ok());
  ProduceN("t", 0, 200, 50);
  RecordingListener listener;
  // A checkpoint says partition 0 resumes at 7 and partition 1 at 11.
  listener.start_offsets = {{"t", 0, KafkaOffset{7}}, {"t", 1, KafkaOffset{11}}};
  auto c = MakeConsumer("g3", {"t"}, &listener);
  const auto got = Drain(c.get(), 200 - 18, milliseconds(15000));
  ASSERT_EQ(got.size(), 182u);
  std::map<int32_t, int64_t> first;
  for (const auto& m : got) first.emplace(m.partition, m.offset);
  EXPECT_EQ(first[0], 7);
  EXPECT_EQ(first[1], 11);
  const std::vector<TopicPartitionOffset> done = {{"t", 0, KafkaOffset{9}},
                                                  {"t", 1, KafkaOffset{12}}};
  ASSERT_TRUE(c->CommitAsync(done).ok());
  std::vector<TopicPartition> parts = {{"t", 0}, {"t", 1}};
  std::vector<TopicPartitionOffset> committed;
  for (int i = 0; i < 50 && (committed.empty() || committed[0].offset.value < 0); ++i) {
    KafkaBatch b;
    ASSERT_TRUE(c->Poll(&b, 10, milliseconds(50)).ok());  // serves the commit result
    auto r = c->Committed(parts, milliseconds(5000));
    ASSERT_TRUE(r.ok());
    committed = *r;
  }
  EXPECT_EQ(committed, done);
  EXPECT_TRUE(c->TakeAsyncCommitError().ok());
}

TEST_F(KafkaTest, SeekMovesTheNextFetch) {
  ASSERT_TRUE(cluster_->CreateTopic("t", 1).ok());
  ProduceN("t", 0, 50);
  auto c = MakeConsumer("manual", {});
  const TopicPartitionOffset start{"t", 0, KafkaOffset::Beginning()};
  {
    auto st_ = c->Assign({&start, 1});
    ASSERT_TRUE(st_.ok()) << st_.message();
  }
  auto got = Drain(c.get(), 20, milliseconds(10000));
  ASSERT_EQ(got.size(), 20u);
  EXPECT_EQ(got.front().offset, 0);
  const TopicPartitionOffset to{"t", 0, KafkaOffset{5}};
  ASSERT_TRUE(c->Seek({&to, 1}, milliseconds(5000)).ok());
  got = Drain(c.get(), 1, milliseconds(10000));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset, 5);
}

TEST_F(KafkaTest, PausedPartitionDeliversNothingUntilResumed) {
  ASSERT_TRUE(cluster_->CreateTopic("t", 2).ok());
  ProduceN("t", 0, 200, 40);
  std::map<int32_t, int> per_partition;
  for (const auto& [token, where] : delivered_) ++per_partition[where.first];
  ASSERT_EQ(per_partition.size(), 2u);
  auto c = MakeConsumer("manual", {});
  const std::vector<TopicPartitionOffset> start = {{"t", 0, KafkaOffset::Beginning()},
                                                   {"t", 1, KafkaOffset::Beginning()}};
  {
    auto st_ = c->Assign(start);
    ASSERT_TRUE(st_.ok()) << st_.message();
  }
  const TopicPartition p0{"t", 0};
  ASSERT_TRUE(c->Pause({&p0, 1}).ok());
  auto got = Drain(c.get(), 200, milliseconds(2000));
  EXPECT_EQ(static_cast<int>(got.size()), per_partition[1]);
  for (const auto& m : got) EXPECT_EQ(m.partition, 1);
  ASSERT_TRUE(c->Resume({&p0, 1}).ok());
  got = Drain(c.get(), per_partition[0], milliseconds(10000));
  ASSERT_EQ(static_cast<int>(got.size()), per_partition[0]);
  for (const auto& m : got) EXPECT_EQ(m.partition, 0);
  EXPECT_EQ(got.front().offset, 0);
}

TEST_F(KafkaTest, LagIsHighWatermarkMinusPosition) {
  ASSERT_TRUE(cluster_->CreateTopic("t", 1).ok());
  ProduceN("t", 0, 100);
  auto c = MakeConsumer("manual", {});
  const TopicPartitionOffset start{"t", 0, KafkaOffset::Beginning()};
  {
    auto st_ = c->Assign({&start, 1});
    ASSERT_TRUE(st_.ok()) << st_.message();
  }
  ASSERT_EQ(Drain(c.get(), 30, milliseconds(10000), 30).size(), 30u);
  auto lag = c->Lag();
  ASSERT_EQ(lag.size(), 1u);
  EXPECT_EQ(lag[0].topic, "t");
  EXPECT_EQ(lag[0].position, 30);
  EXPECT_EQ(lag[0].high_watermark, 100);
  EXPECT_EQ(lag[0].lag, 70);
  ASSERT_EQ(Drain(c.get(), 70, milliseconds(10000)).size(), 70u);
  EXPECT_EQ(c->Lag()[0].lag, 0);
}

// The runtime compares a checkpoint's offsets with the log start to notice records retention
// deleted; the mock drops a partition's oldest messages beyond 5 MiB, as retention would.
TEST_F(KafkaTest, WatermarksShowTheLogStartMovingWhenOldMessagesGo) {
  ASSERT_TRUE(cluster_->CreateTopic("t", 1).ok());
  ProduceN("t", 0, 100);
  auto c = MakeConsumer("marks", {});
  const TopicPartition tp{"t", 0};
  auto marks = c->QueryWatermarks(tp, milliseconds(10000));
  ASSERT_TRUE(marks.ok()) << marks.status().message();
  EXPECT_EQ(marks->first, 0);
  EXPECT_EQ(marks->second, 100);
  auto p = MakeProducer();
  const std::string kib(1024, 'x');
  for (int i = 0; i < 6000; ++i) ASSERT_TRUE(p->Produce("t", "", kib, i).ok());
  ASSERT_TRUE(p->Flush(milliseconds(20000)).ok());
  marks = c->QueryWatermarks(tp, milliseconds(10000));
  ASSERT_TRUE(marks.ok()) << marks.status().message();
  EXPECT_GT(marks->first, 100) << "the mock keeps 5 MiB: the first 100 and more are gone";
  EXPECT_EQ(marks->second, 6100);
}

TEST(KafkaConfig, PassesEveryPropertyThroughAndRefusesWhatBreaksGuarantees) {
  auto ok = BuildKafkaConf(KafkaRole::kConsumer, "h:1", "g",
                           {{"security.protocol", "sasl_ssl"},
                            {"sasl.mechanisms", "PLAIN"},
                            {"sasl.username", "u"},
                            {"sasl.password", "p"},
                            {"fetch.wait.max.ms", "7"}});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  char buf[64];
  size_t n = sizeof(buf);
  ASSERT_EQ(rd_kafka_conf_get(ok->get(), "fetch.wait.max.ms", buf, &n), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(buf, "7");
  n = sizeof(buf);
  ASSERT_EQ(rd_kafka_conf_get(ok->get(), "enable.auto.commit", buf, &n), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(buf, "false");
  auto unknown = BuildKafkaConf(KafkaRole::kConsumer, "h:1", "g", {{"no.such.key", "1"}});
  EXPECT_NE(unknown.status().message().find("no.such.key"), std::string::npos);
  auto autocommit =
      BuildKafkaConf(KafkaRole::kConsumer, "h:1", "g", {{"enable.auto.commit", "true"}});
  EXPECT_EQ(autocommit.status().code(), core::Code::kInvalidArgument);
  auto clash = BuildKafkaConf(KafkaRole::kConsumer, "h:1", "g", {{"bootstrap.servers", "x:2"}});
  EXPECT_FALSE(clash.ok());
  auto prod = BuildKafkaConf(KafkaRole::kProducer, "h:1", "", {{"linger.ms", "0"}});
  ASSERT_TRUE(prod.ok());
  n = sizeof(buf);
  ASSERT_EQ(rd_kafka_conf_get(prod->get(), "enable.idempotence", buf, &n), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(buf, "true");
}

TEST_F(KafkaTest, MockCommandsAnswerOkOrSayWhatIsWrong) {
  EXPECT_TRUE(cluster_->Execute("topic x 3").ok());
  EXPECT_TRUE(cluster_->Execute("leader x 0 2").ok());
  EXPECT_TRUE(cluster_->Execute("broker-down 3").ok());
  EXPECT_TRUE(cluster_->Execute("broker-up 3").ok());
  EXPECT_TRUE(cluster_->Execute("rtt 1 5").ok());
  EXPECT_TRUE(cluster_->Execute("errors Fetch 2 NOT_LEADER_FOR_PARTITION").ok());
  EXPECT_TRUE(cluster_->Execute("errors 0 1 6").ok());
  EXPECT_FALSE(cluster_->Execute("errors Bogus 1 NOT_LEADER_OR_FOLLOWER").ok());
  EXPECT_FALSE(cluster_->Execute("errors Produce 1 NO_SUCH_ERROR").ok());
  EXPECT_FALSE(cluster_->Execute("leader x zero 2").ok());
  EXPECT_FALSE(cluster_->Execute("frobnicate").ok());
}

}  // namespace
}  // namespace sluice::io::testing
