// Event latency through a Kafka pipeline at a fixed input rate: produces the lines of --events
// to --in at --rate messages/s (paced; keyed by --key-field, so each entity's events keep their
// order in one partition), while a consumer reads --out (and --dead, the dead letters), finds in
// each message the event id (--id-field's value, or the output's "event_id"; escaped inside a
// dead letter's record) and stamps its arrival. An event's latency is (output received) - (input
// handed to the producer), both on this process's steady clock, so no clocks are compared across
// processes; every event is matched exactly, no histogram. Quantiles are over the events that
// got an output; dead letters (late across partitions) are only counted, so the run knows when
// everything has come out. --warmup events go first and are waited for (the pipeline's group
// join), and are not counted. The pipeline under test (sluice run, or bench_kafka_loop as the
// peer) runs alongside. Prints JSON with p50/p99/max in milliseconds.
//   bench_kafka_latency --brokers B --in events --out scores [--dead dead] --events ev.jsonl
//       --rate 50000 --count 40000 --warmup 200 [--id-field txn_id] [--key-field user_id]
//       [--fetch-wait-ms 5] [--linger-ms 1]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sluice/io/kafka_consumer.h"
#include "sluice/io/kafka_producer.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

int Die(const std::string& what) {
  std::fprintf(stderr, "bench_kafka_latency: %s\n", what.c_str());
  return 1;
}

// The value of "field": in a flat JSON line (a string's characters, or a number's text).
std::string IdOf(const std::string& line, const std::string& field) {
  const std::string pat = "\"" + field + "\":";
  size_t at = line.find(pat);
  if (at == std::string::npos) return {};
  at += pat.size();
  if (at < line.size() && line[at] == '"') {
    const size_t end = line.find('"', at + 1);
    return end == std::string::npos ? std::string() : line.substr(at + 1, end - at - 1);
  }
  const size_t end = line.find_first_of(",}", at);
  return line.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The event id in an output (`"event_id":"x"`), a copied input (`"<field>":"x"`) or a dead
// letter's escaped record (`\"<field>\":\"x\"`).
std::vector<std::string> IdPatterns(const std::string& field) {
  return {"\"event_id\":\"", "\"" + field + "\":\"", "\\\"" + field + "\\\":\\\""};
}

std::string_view IdIn(std::string_view v, const std::vector<std::string>& patterns) {
  for (const std::string& pat : patterns) {
    const size_t at = v.find(pat);
    if (at == std::string_view::npos) continue;
    const size_t from = at + pat.size(), end = v.find_first_of("\"\\", from);
    if (end != std::string_view::npos) return v.substr(from, end - from);
  }
  return {};
}

int64_t Nanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

struct Events {
  std::vector<std::string> lines, ids;
  std::unordered_map<std::string, size_t> index;  // id -> line number
  std::vector<std::string> keys;
  std::vector<std::atomic<int64_t>> sent, received;  // steady-clock ns; 0 = not yet
  std::vector<std::atomic<bool>> dead;               // came out as a dead letter
  explicit Events(size_t n) : sent(n), received(n), dead(n) {}
};

// Reads --out until told to stop, stamping the first arrival of each known key.
void Receive(sluice::io::KafkaConsumer* c, Events* ev, const std::string& field,
             const std::string& dead_topic, std::atomic<size_t>* seen,
             const std::atomic<bool>* stop) {
  sluice::io::KafkaBatch batch;
  const std::vector<std::string> patterns = IdPatterns(field);
  while (!stop->load()) {
    if (!c->Poll(&batch, 10000, std::chrono::milliseconds(20)).ok()) return;
    const int64_t now = Nanos(Clock::now());
    for (size_t i = 0; i < batch.size(); ++i) {
      const auto m = batch[i];
      auto it = ev->index.find(std::string(IdIn(m.value, patterns)));
      if (it == ev->index.end()) continue;
      int64_t expected = 0;
      if (ev->received[it->second].compare_exchange_strong(expected, now)) {
        if (m.topic == dead_topic) ev->dead[it->second] = true;
        seen->fetch_add(1);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice::io;
  const std::string brokers = Arg(argc, argv, "--brokers", ""),
                    in = Arg(argc, argv, "--in", "events"),
                    out = Arg(argc, argv, "--out", "scores"),
                    path = Arg(argc, argv, "--events", ""), dead = Arg(argc, argv, "--dead", ""),
                    field = Arg(argc, argv, "--id-field", "txn_id"),
                    key_field = Arg(argc, argv, "--key-field", "user_id"),
                    fetch_wait = Arg(argc, argv, "--fetch-wait-ms", "5"),
                    linger = Arg(argc, argv, "--linger-ms", "1");
  const double rate = std::atof(Arg(argc, argv, "--rate", "10000").c_str());
  const size_t count = std::strtoull(Arg(argc, argv, "--count", "10000").c_str(), nullptr, 10);
  const size_t warmup = std::strtoull(Arg(argc, argv, "--warmup", "200").c_str(), nullptr, 10);
  const size_t total = warmup + count;
  Events ev(total);
  std::ifstream f(path);
  for (std::string line; ev.lines.size() < total && std::getline(f, line);) {
    ev.ids.push_back(IdOf(line, field));
    if (ev.ids.back().empty()) return Die("no " + field + " in line " + line);
    ev.keys.push_back(IdOf(line, key_field));
    ev.index.emplace(ev.ids.back(), ev.lines.size());
    ev.lines.push_back(std::move(line));
  }
  if (ev.lines.size() < total) return Die("--events has fewer than --warmup + --count lines");

  // A fresh group reading the output topic from its start; short fetch waits, because
  // librdkafka's mock answers an empty fetch only after fetch.wait.max.ms, even if data arrives.
  KafkaProperties ccfg = {{"fetch.wait.max.ms", fetch_wait},
                          {"isolation.level", "read_uncommitted"}};
  std::vector<std::string> topics = {out};
  if (!dead.empty()) topics.push_back(dead);
  auto consumer = KafkaConsumer::Create({brokers, "latency-" + out, topics, ccfg, nullptr});
  if (!consumer.ok()) return Die(consumer.status().message());
  KafkaProducerOptions po;
  po.brokers = brokers;
  po.topics = {in};
  po.config = {{"linger.ms", linger}};
  auto producer = KafkaProducer::Create(std::move(po));
  if (!producer.ok()) return Die(producer.status().message());

  std::atomic<size_t> seen{0};
  std::atomic<bool> stop{false};
  std::thread receiver(Receive, consumer->get(), &ev, std::cref(field), std::cref(dead), &seen,
                       &stop);
  auto send = [&](size_t i) {
    ev.sent[i] = Nanos(Clock::now());
    return (*producer)->Produce(in, ev.keys[i], ev.lines[i], 0);
  };
  auto wait_for = [&](size_t n, std::chrono::seconds limit) {
    const auto until = Clock::now() + limit;
    while (seen.load() < n && Clock::now() < until) {
      (*producer)->Poll(std::chrono::milliseconds(1));
    }
    return seen.load() >= n;
  };
  int rc = 0;
  for (size_t i = 0; i < warmup && rc == 0; ++i) rc = send(i).ok() ? 0 : 1;
  if (rc == 0 && (!(*producer)->Flush(std::chrono::seconds(30)).ok() ||
                  !wait_for(warmup, std::chrono::seconds(60)))) {
    rc = Die("the warm-up events' outputs did not arrive");
  }
  // Paced: event k is due at start + k / rate; whatever is due is sent, then the thread sleeps
  // until the next one is due, leaving the core to the pipeline.
  const auto start = Clock::now();
  for (size_t k = 0; k < count && rc == 0; ++k) {
    const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * k / rate));
    if (Clock::now() < due) {
      (*producer)->Poll(std::chrono::milliseconds(0));
      std::this_thread::sleep_until(due);
    }
    if (!send(warmup + k).ok()) rc = Die("produce failed");
  }
  const double produce_secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (rc == 0 && !(*producer)->Flush(std::chrono::seconds(30)).ok()) rc = Die("flush failed");
  if (rc == 0) (void)wait_for(total, std::chrono::seconds(30));
  stop = true;
  receiver.join();
  if (rc != 0) return rc;

  std::vector<double> ms;
  ms.reserve(count);
  size_t dead_letters = 0, missing = 0;
  for (size_t i = warmup; i < total; ++i) {
    if (ev.received[i] == 0) {
      ++missing;
    } else if (ev.dead[i]) {
      ++dead_letters;
    } else {
      ms.push_back(static_cast<double>(ev.received[i] - ev.sent[i]) / 1e6);
    }
  }
  const double mx = ms.empty() ? -1 : *std::max_element(ms.begin(), ms.end());
  std::printf(
      "{\"count\":%zu,\"outputs\":%zu,\"dead_letters\":%zu,\"missing\":%zu,\"rate\":%.0f,"
      "\"achieved_rate\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
      count, ms.size(), dead_letters, missing, rate, static_cast<double>(count) / produce_secs,
      Quantile(ms, 0.5), Quantile(ms, 0.99), mx);
  return missing == 0 ? 0 : 1;
}
