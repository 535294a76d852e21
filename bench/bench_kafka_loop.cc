// The limit for `sluice run` on Kafka: librdkafka's own consume-then-produce loop doing no
// processing. It reads --count messages from --in in a consumer group and produces each value,
// unchanged and with its key, to --out; every batch is flushed before its offsets are committed,
// exactly the delivery discipline `sluice run` keeps, so the only difference left is the engine's
// work. Prints messages/s. --fetch-wait-ms sets the consumer's fetch.wait.max.ms (the latency
// runs set it like the engine's, see bench/kafka_bench.py).
//   bench_kafka_loop --brokers B --in events --out copy --group g --count N [--fetch-wait-ms W]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "sluice/io/kafka_consumer.h"
#include "sluice/io/kafka_producer.h"

namespace {

std::string Arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

int Die(const sluice::core::Status& s) {
  std::fprintf(stderr, "bench_kafka_loop: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice::io;
  const std::string brokers = Arg(argc, argv, "--brokers", ""),
                    in = Arg(argc, argv, "--in", "events"), out = Arg(argc, argv, "--out", "copy"),
                    group = Arg(argc, argv, "--group", "loop");
  const long long count = std::atoll(Arg(argc, argv, "--count", "100000").c_str());
  KafkaProperties cfg = {{"session.timeout.ms", "3000"}, {"heartbeat.interval.ms", "500"}};
  const std::string fetch_wait = Arg(argc, argv, "--fetch-wait-ms", "");
  if (!fetch_wait.empty()) cfg.emplace_back("fetch.wait.max.ms", fetch_wait);
  auto consumer = KafkaConsumer::Create({brokers, group, {in}, cfg, nullptr});
  if (!consumer.ok()) return Die(consumer.status());
  KafkaProducerOptions po;
  po.brokers = brokers;
  po.topics = {out};
  auto producer = KafkaProducer::Create(std::move(po));
  if (!producer.ok()) return Die(producer.status());
  KafkaBatch batch;
  long long done = 0;
  std::chrono::steady_clock::time_point start;
  while (done < count) {
    if (auto s = (*consumer)->Poll(&batch, 10000, std::chrono::milliseconds(100)); !s.ok())
      return Die(s);
    if (batch.empty()) continue;
    if (done == 0) start = std::chrono::steady_clock::now();  // after the group join
    std::map<int32_t, int64_t> next;
    for (size_t i = 0; i < batch.size(); ++i) {
      const KafkaMessageView m = batch[i];
      if (auto s = (*producer)->Produce(out, m.key, m.value, 0); !s.ok()) return Die(s);
      next[m.partition] = m.offset.value + 1;
    }
    done += static_cast<long long>(batch.size());
    if (auto s = (*producer)->Flush(std::chrono::milliseconds(60000)); !s.ok()) return Die(s);
    std::vector<TopicPartitionOffset> offsets;
    for (const auto& [p, o] : next) offsets.push_back({in, p, KafkaOffset{o}});
    if (auto s = (*consumer)->CommitSync(offsets); !s.ok()) return Die(s);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"messages\":%lld,\"seconds\":%.3f,\"per_second\":%.0f}\n", done, secs,
              done / secs);
  return 0;
}
