#include "sluice/io/kafka_config.h"

#include <string_view>

namespace sluice::io {

namespace {

// Keys whose value Sluice depends on: offsets are committed only for delivered events, by the
// runtime, so librdkafka must never commit or store offsets on its own.
constexpr std::pair<std::string_view, std::string_view> kPinned[] = {
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
};

core::Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  switch (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err))) {
    case RD_KAFKA_CONF_OK:
      return core::Status::Ok();
    case RD_KAFKA_CONF_UNKNOWN:
      return core::Status::InvalidArgument("kafka config: unknown librdkafka property '" + key +
                                           "'");
    default:
      return core::Status::InvalidArgument("kafka config: " + key + "=" + value + ": " + err);
  }
}

core::Status CheckUser(KafkaRole role, const std::string& brokers, const std::string& group,
                       const std::string& key, const std::string& value) {
  if (role == KafkaRole::kConsumer) {
    for (const auto& [k, v] : kPinned) {
      if (key == k && value != v) {
        return core::Status::InvalidArgument("kafka config: " + key + "=" + value +
                                             " is refused: Sluice commits offsets itself, " +
                                             "only for events whose outputs were delivered");
      }
    }
  }
  if (key == "bootstrap.servers" && !brokers.empty() && value != brokers) {
    return core::Status::InvalidArgument("kafka config: bootstrap.servers=" + value +
                                         " contradicts brokers: " + brokers);
  }
  if (key == "group.id" && !group.empty() && value != group) {
    return core::Status::InvalidArgument("kafka config: group.id=" + value +
                                         " contradicts group: " + group);
  }
  return core::Status::Ok();
}

}  // namespace

const KafkaProperties& KafkaDefaults(KafkaRole role) {
  static const KafkaProperties kConsumer = {
      {"client.id", "sluice"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"isolation.level", "read_committed"},
      {"enable.partition.eof", "false"},
      {"socket.nagle.disable", "true"},  // see kProducer
  };
  static const KafkaProperties kProducer = {
      {"client.id", "sluice"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "1"},
      // TCP_NODELAY, as Kafka's Java clients and brokers set it: small requests (a low-rate
      // batch, a commit) go out at once instead of waiting on the peer's delayed ACK.
      {"socket.nagle.disable", "true"},
  };
  return role == KafkaRole::kConsumer ? kConsumer : kProducer;
}

core::Result<KafkaConf> BuildKafkaConf(KafkaRole role, const std::string& brokers,
                                       const std::string& group, const KafkaProperties& user) {
  KafkaConf conf(rd_kafka_conf_new());
  for (const auto& [k, v] : KafkaDefaults(role)) SLUICE_RETURN_IF_ERROR(Set(conf.get(), k, v));
  if (!brokers.empty()) SLUICE_RETURN_IF_ERROR(Set(conf.get(), "bootstrap.servers", brokers));
  if (!group.empty()) SLUICE_RETURN_IF_ERROR(Set(conf.get(), "group.id", group));
  for (const auto& [k, v] : user) {
    SLUICE_RETURN_IF_ERROR(CheckUser(role, brokers, group, k, v));
    SLUICE_RETURN_IF_ERROR(Set(conf.get(), k, v));
  }
  return conf;
}

}  // namespace sluice::io
