// Transactions (exactly_once). librdkafka 2.0.2's mock cluster runs the whole transaction protocol
// but writes no commit/abort markers and ignores TxnOffsetCommit's offsets, so on the mock these
// tests check the API sequence and that committed messages are seen exactly once; the full
// guarantees (aborted invisible to read_committed, offsets committed with the transaction) are
// checked against a real Kafka when SLUICE_KAFKA_TEST_BROKERS=host:port is set.
#include <unistd.h>

#include <cstdlib>

#include "kafka_test_util.h"

namespace sluice::io::testing {
namespace {

const char* RealBrokers() { return std::getenv("SLUICE_KAFKA_TEST_BROKERS"); }

std::string Unique(const std::string& base) {
  return base + "-" + std::to_string(getpid()) + "-" + std::to_string(time(nullptr));
}

std::unique_ptr<KafkaProducer> TxnProducer(const std::string& brokers, const std::string& id) {
  KafkaProducerOptions o;
  o.brokers = brokers;
  o.transactional_id = id;
  auto p = KafkaProducer::Create(std::move(o));
  EXPECT_TRUE(p.ok()) << p.status().message();
  if (!p.ok()) return nullptr;
  const auto st = (*p)->InitTransactions(milliseconds(20000));
  EXPECT_TRUE(st.ok()) << st.message();
  return std::move(*p);
}

// Aborts one transaction of 10 messages, commits another; returns what read_committed reads.
std::vector<std::string> AbortThenCommit(const std::string& brokers, const std::string& topic) {
  auto p = TxnProducer(brokers, Unique("sluice-test-tx"));
  if (!p) return {};
  EXPECT_TRUE(p->BeginTransaction().ok());
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(p->Produce(topic, "k", "aborted" + std::to_string(i), i).ok());
  EXPECT_TRUE(p->Flush(milliseconds(10000)).ok());
  EXPECT_TRUE(p->AbortTransaction(milliseconds(10000)).ok());
  EXPECT_TRUE(p->BeginTransaction().ok());
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(p->Produce(topic, "k", "committed" + std::to_string(i), i).ok());
  const auto st = p->CommitTransaction(milliseconds(10000));
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(p->last_txn_error(), KafkaTxnError::kNone);

  KafkaConsumerOptions o;
  o.brokers = brokers;
  o.group = Unique("reader");
  o.config = {{"isolation.level", "read_committed"}};
  auto c = KafkaConsumer::Create(std::move(o));
  EXPECT_TRUE(c.ok());
  if (!c.ok()) return {};
  const TopicPartitionOffset start{topic, 0, KafkaOffset::Beginning()};
  EXPECT_TRUE((*c)->Assign({&start, 1}).ok());
  std::vector<std::string> values;
  for (const auto& m : KafkaTest::Drain(c->get(), 100, milliseconds(4000)))
    values.push_back(m.value);
  return values;
}

std::vector<std::string> Committed10() {
  std::vector<std::string> want;
  for (int i = 0; i < 10; ++i) want.push_back("committed" + std::to_string(i));
  return want;
}

TEST_F(KafkaTest, CommittedTransactionIsReadExactlyOnce) {
  ASSERT_TRUE(cluster_->CreateTopic("tx", 1).ok());
  std::vector<std::string> committed;
  for (const auto& v : AbortThenCommit(Brokers(), "tx")) {
    if (v.rfind("committed", 0) == 0) committed.push_back(v);
  }
  EXPECT_EQ(committed, Committed10());
}

TEST_F(KafkaTest, SendOffsetsToTransactionRunsTheProtocol) {
  ASSERT_TRUE(cluster_->CreateTopic("in", 1).ok());
  ProduceN("in", 0, 20);
  auto c = MakeConsumer("g-tx", {"in"});
  ASSERT_EQ(Drain(c.get(), 20, milliseconds(15000)).size(), 20u);
  auto p = TxnProducer(Brokers(), "sluice-test-offsets");
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->BeginTransaction().ok());
  ASSERT_TRUE(p->Produce("out", "k", "scored", 1).ok());
  const TopicPartitionOffset done{"in", 0, KafkaOffset{20}};
  const auto sent = p->SendOffsetsToTransaction({&done, 1}, *c, milliseconds(10000));
  ASSERT_TRUE(sent.ok()) << sent.message();
  ASSERT_TRUE(p->CommitTransaction(milliseconds(10000)).ok());
}

TEST_F(KafkaTest, TransactionErrorsAreClassified) {
  auto p = TxnProducer(Brokers(), "sluice-test-errors");
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->BeginTransaction().ok());
  // Beginning twice is a state error: librdkafka names it, and it is neither fatal nor abortable.
  const auto st = p->BeginTransaction();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(p->last_txn_error(), KafkaTxnError::kFatal);
  ASSERT_TRUE(p->AbortTransaction(milliseconds(10000)).ok());
}

TEST(KafkaRealBroker, AbortedTransactionInvisibleAndOffsetsCommittedWithIt) {
  if (!RealBrokers()) {
    GTEST_SKIP() << "needs a real Kafka: set SLUICE_KAFKA_TEST_BROKERS=host:port (the mock "
                    "cluster writes no transaction markers)";
  }
  const std::string brokers = RealBrokers();
  const std::string topic = Unique("sluice-tx");
  EXPECT_EQ(AbortThenCommit(brokers, topic), Committed10());

  KafkaConsumerOptions o;
  o.brokers = brokers;
  o.group = Unique("sluice-txg");
  o.topics = {topic};
  auto c = KafkaConsumer::Create(std::move(o));
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(KafkaTest::Drain(c->get(), 10, milliseconds(30000)).size(), 10u);
  auto p = TxnProducer(brokers, Unique("sluice-test-offsets"));
  ASSERT_TRUE(p && p->BeginTransaction().ok());
  const TopicPartitionOffset done{topic, 0, KafkaOffset{7}};
  ASSERT_TRUE(p->SendOffsetsToTransaction({&done, 1}, **c, milliseconds(10000)).ok());
  ASSERT_TRUE(p->CommitTransaction(milliseconds(10000)).ok());
  const TopicPartition tp{topic, 0};
  auto committed = (*c)->Committed({&tp, 1}, milliseconds(10000));
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ((*committed)[0].offset, KafkaOffset{7});
}

}  // namespace
}  // namespace sluice::io::testing
