#include "sluice/io/kafka_mock.h"

#include <librdkafka/rdkafka_mock.h>

#include <charconv>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace sluice::io {

namespace {

// Kafka protocol API keys (the public protocol guide's numbering) for the requests a client makes.
constexpr std::pair<std::string_view, int16_t> kApis[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"SaslHandshake", 17},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"DeleteTopics", 20},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
    {"SaslAuthenticate", 36},
};

template <typename T>
std::optional<T> ParseInt(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int16_t> ApiKey(std::string_view name) {
  for (const auto& [n, key] : kApis) {
    if (n == name) return key;
  }
  return ParseInt<int16_t>(name);
}

// Kafka's newer name for error 6 is not in librdkafka 2.0's table.
std::optional<rd_kafka_resp_err_t> ErrorCode(std::string_view name) {
  if (name == "NOT_LEADER_OR_FOLLOWER") return RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
  const rd_kafka_err_desc* descs = nullptr;
  size_t n = 0;
  rd_kafka_get_err_descs(&descs, &n);
  for (size_t i = 0; i < n; ++i) {
    if (descs[i].name && name == descs[i].name) return descs[i].code;
  }
  if (auto v = ParseInt<int>(name)) return static_cast<rd_kafka_resp_err_t>(*v);
  return std::nullopt;
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

core::Status Usage(std::string_view what) {
  return core::Status::InvalidArgument("usage: " + std::string(what));
}

}  // namespace

core::Result<std::unique_ptr<KafkaMockCluster>> KafkaMockCluster::Create(int brokers) {
  if (brokers < 1) return core::Status::InvalidArgument("a mock cluster needs at least 1 broker");
  std::unique_ptr<KafkaMockCluster> c(new KafkaMockCluster());
  KafkaConf conf(rd_kafka_conf_new());
  char err[512];
  // The handle only hosts the mock; it talks to no broker, so keep it quiet.
  rd_kafka_conf_set(conf.get(), "log_level", "3", err, sizeof(err));
  // The mock brokers' sockets take this handle's settings. Without TCP_NODELAY a response written
  // in pieces waits for the client's delayed ACK (~40 ms on Linux): every produce round trip then
  // took ~40 ms, where a real broker (which sets TCP_NODELAY) answers at once.
  rd_kafka_conf_set(conf.get(), "socket.nagle.disable", "true", err, sizeof(err));
  c->rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof(err)));
  if (!c->rk_) return core::Status::Internal(std::string("kafka mock: ") + err);
  (void)conf.release();
  c->mock_ = rd_kafka_mock_cluster_new(c->rk_.get(), brokers);
  if (!c->mock_) return core::Status::IoError("kafka mock: cannot start the cluster");
  c->bootstraps_ = rd_kafka_mock_cluster_bootstraps(c->mock_);
  c->brokers_ = brokers;
  return c;
}

KafkaMockCluster::~KafkaMockCluster() {
  if (mock_) rd_kafka_mock_cluster_destroy(mock_);
}

core::Status KafkaMockCluster::CreateTopic(const std::string& topic, int partitions) {
  if (partitions < 1) return core::Status::InvalidArgument("a topic needs at least 1 partition");
  const int replication = brokers_ < 3 ? brokers_ : 3;
  return KafkaStatus(rd_kafka_mock_topic_create(mock_, topic.c_str(), partitions, replication),
                     "create topic " + topic);
}

core::Status KafkaMockCluster::SetBrokerDown(int32_t broker) {
  return KafkaStatus(rd_kafka_mock_broker_set_down(mock_, broker), "broker-down");
}

core::Status KafkaMockCluster::SetBrokerUp(int32_t broker) {
  return KafkaStatus(rd_kafka_mock_broker_set_up(mock_, broker), "broker-up");
}

core::Status KafkaMockCluster::SetLeader(const std::string& topic, int32_t partition,
                                         int32_t broker) {
  return KafkaStatus(rd_kafka_mock_partition_set_leader(mock_, topic.c_str(), partition, broker),
                     "leader");
}

core::Status KafkaMockCluster::SetRtt(int32_t broker, int rtt_ms) {
  return KafkaStatus(rd_kafka_mock_broker_set_rtt(mock_, broker, rtt_ms), "rtt");
}

core::Status KafkaMockCluster::PushRequestErrors(std::string_view api, size_t count,
                                                 std::string_view error) {
  auto key = ApiKey(api);
  if (!key) return core::Status::InvalidArgument("unknown Kafka API '" + std::string(api) + "'");
  auto code = ErrorCode(error);
  if (!code)
    return core::Status::InvalidArgument("unknown Kafka error '" + std::string(error) + "'");
  std::vector<rd_kafka_resp_err_t> errs(count, *code);
  rd_kafka_mock_push_request_errors_array(mock_, *key, errs.size(), errs.data());
  return core::Status::Ok();
}

core::Status KafkaMockCluster::Execute(std::string_view line) {
  const auto w = Words(line);
  if (w.empty()) return Usage("a command (see sluice kafka-dev --help)");
  const std::string_view cmd = w[0];
  auto id = [&](size_t i) { return i < w.size() ? ParseInt<int32_t>(w[i]) : std::nullopt; };
  if (cmd == "broker-down" || cmd == "broker-up") {
    if (w.size() != 2 || !id(1)) return Usage(std::string(cmd) + " BROKER_ID");
    return cmd == "broker-down" ? SetBrokerDown(*id(1)) : SetBrokerUp(*id(1));
  }
  if (cmd == "leader") {
    if (w.size() != 4 || !id(2) || !id(3)) return Usage("leader TOPIC PARTITION BROKER_ID");
    return SetLeader(std::string(w[1]), *id(2), *id(3));
  }
  if (cmd == "errors") {
    auto count = w.size() == 4 ? ParseInt<size_t>(w[2]) : std::nullopt;
    if (!count) return Usage("errors API COUNT ERROR_NAME");
    return PushRequestErrors(w[1], *count, w[3]);
  }
  if (cmd == "rtt") {
    if (w.size() != 3 || !id(1) || !id(2)) return Usage("rtt BROKER_ID MS");
    return SetRtt(*id(1), *id(2));
  }
  if (cmd == "topic") {
    if (w.size() != 3 || !id(2)) return Usage("topic NAME PARTITIONS");
    return CreateTopic(std::string(w[1]), *id(2));
  }
  return core::Status::InvalidArgument("unknown command '" + std::string(cmd) +
                                       "' (see sluice kafka-dev --help)");
}

}  // namespace sluice::io
