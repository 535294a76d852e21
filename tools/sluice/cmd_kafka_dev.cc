// sluice kafka-dev: a local Kafka-protocol cluster (librdkafka's mock) for development and tests,
// with fault injection read from stdin (SPEC.md §1; docs/operations.md).
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "args.h"
#include "commands.h"
#include "sluice/io/kafka_mock.h"

namespace sluice::cli {

namespace {

const char* kHelp =
    "usage: sluice kafka-dev [--brokers N] [--topic NAME:PARTITIONS]...\n\n"
    "Starts a local Kafka-protocol cluster in memory (librdkafka's mock cluster; default 3\n"
    "brokers, ids 1..N, on 127.0.0.1 with free ports), creates the topics (replication\n"
    "min(N,3)), prints the bootstrap servers on the first line of stdout and runs until SIGINT\n"
    "or SIGTERM (exit 0). Topics not created up front are created on first use. For development\n"
    "and tests only: nothing is persisted, and transactions are committed but aborted ones are\n"
    "not hidden from read_committed consumers.\n\n"
    "Fault injection: one command per line on stdin, each answered `ok` or `error: ...`:\n"
    "  broker-down ID                 broker ID closes its connections and refuses new ones\n"
    "  broker-up ID                   brings it back\n"
    "  leader TOPIC PARTITION ID      moves the partition's leadership to broker ID\n"
    "  errors API COUNT ERROR         the next COUNT requests of API fail with ERROR, e.g.\n"
    "                                 `errors Produce 3 NOT_LEADER_OR_FOLLOWER` (API and ERROR\n"
    "                                 by Kafka name or number)\n"
    "  rtt ID MS                      adds MS of round-trip delay to broker ID (0 clears)\n"
    "  topic NAME PARTITIONS          creates a topic\n"
    "Exit 2 on bad flags, 1 when the cluster cannot start.\n";

bool ParseTopic(const std::string& s, std::string* name, int* parts) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *name = s.substr(0, colon);
  const char* b = s.data() + colon + 1;
  const char* e = s.data() + s.size();
  auto [p, ec] = std::from_chars(b, e, *parts);
  return ec == std::errc() && p == e && *parts > 0;
}

// Answers stdin's commands until EOF; `mu` keeps them apart from shutdown.
void ServeCommands(io::KafkaMockCluster* cluster, std::mutex* mu) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::lock_guard lock(*mu);
    const core::Status st = cluster->Execute(line);
    if (st.ok()) {
      std::fputs("ok\n", stdout);
    } else {
      std::fprintf(stdout, "error: %s\n", st.message().c_str());
    }
    std::fflush(stdout);
  }
}

struct DevFlags {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
};

// Empty on success, else the usage error.
std::string ParseFlags(int argc, char** argv, DevFlags* f) {
  Args args;
  std::string err;
  if (!args.Parse(argc, argv, 2, {"brokers", "topic"}, {}, &err)) return err;
  if (!args.positional().empty()) return "takes no positional arguments";
  const std::string b = args.Get("brokers", "3");
  auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), f->brokers);
  if (ec != std::errc() || p != b.data() + b.size() || f->brokers < 1 || f->brokers > 64)
    return "--brokers must be an integer in 1..64";
  for (const auto& t : args.GetAll("topic")) {
    std::string name;
    int parts = 0;
    if (!ParseTopic(t, &name, &parts)) return "--topic takes NAME:PARTITIONS, got '" + t + "'";
    f->topics.emplace_back(name, parts);
  }
  return "";
}

}  // namespace

int RunKafkaDev(int argc, char** argv) {
  if (HelpAsked(argc, argv, kHelp)) return 0;
  DevFlags flags;
  if (std::string err = ParseFlags(argc, argv, &flags); !err.empty())
    return Fail("kafka-dev", err, 2);
  // Signals are taken by sigwait below, so every thread (the mock's too) must block them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  auto cluster = io::KafkaMockCluster::Create(flags.brokers);
  if (!cluster.ok()) return Fail("kafka-dev", cluster.status().message(), 1);
  for (const auto& [name, parts] : flags.topics) {
    const core::Status st = (*cluster)->CreateTopic(name, parts);
    if (!st.ok()) return Fail("kafka-dev", st.message(), 1);
  }
  std::printf("%s\n", (*cluster)->bootstrap_servers().c_str());
  std::fflush(stdout);
  std::mutex mu;
  std::thread(ServeCommands, cluster->get(), &mu).detach();
  int sig = 0;
  sigwait(&sigs, &sig);
  std::lock_guard lock(mu);  // the command thread stays blocked on this until exit
  cluster->reset();
  std::fflush(stdout);
  return 0;
}

}  // namespace sluice::cli
