#pragma once
// librdkafka configuration: Sluice's defaults, then the spec's fields, then every key of the
// spec's `config:` map passed through unchanged (SASL, SSL and all). Thread-compatible.
#include <string>
#include <utility>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/io/kafka_handles.h"

namespace sluice::io {

// librdkafka properties in order; a later duplicate key wins over an earlier one.
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

enum class KafkaRole { kConsumer, kProducer };

// The properties Sluice sets before the user's (src/sluice/io/README.md lists them and why).
const KafkaProperties& KafkaDefaults(KafkaRole role);

// Builds a librdkafka conf: defaults, then `brokers` (bootstrap.servers) and `group` (group.id)
// when non-empty, then `user`. A `user` key that contradicts `brokers`/`group`, a key librdkafka
// does not know, a bad value, or one that would break Sluice's delivery guarantees
// (enable.auto.commit=true, enable.auto.offset.store=true) is InvalidArgument naming the key.
core::Result<KafkaConf> BuildKafkaConf(KafkaRole role, const std::string& brokers,
                                       const std::string& group, const KafkaProperties& user);

}  // namespace sluice::io
