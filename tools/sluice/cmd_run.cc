// sluice run: the streaming engine (SPEC.md §1).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "args.h"
#include "commands.h"
#include "sluice/core/time.h"
#include "sluice/engine/runtime.h"
#include "sluice/monitor/metrics.h"
#include "sluice/spec/pipeline.h"

namespace sluice::cli {
namespace {

const char* kHelp =
    "usage: sluice run SPEC [--input F] [--output F] [--dead-letter F] [--threads N] [--follow]\n"
    "                  [--batch-bytes B] [--status-seconds S] [--metrics-file F]\n"
    "                  [--state DIR] [--checkpoint-interval DURATION] [--max-records N]\n\n"
    "The streaming engine: reads the source (the spec's source.file, or --input; - is stdin),\n"
    "computes every feature exactly as backfill does, scores the spec's model, and writes one\n"
    "JSON line per applied event to the output (output.file, or --output; default stdout):\n"
    "  {\"event_id\":..,\"event_time\":..,\"model\":..,\"model_version\":..,\"score\":..,"
    "\"features\":{..}}\n"
    "Bad records go to the dead-letter file with their reason. --follow keeps reading a file as\n"
    "it grows (tail -f). Records are processed in micro-batches of what has arrived (at most\n"
    "--batch-bytes, default 256 KiB), each written and flushed before the next is read. A status\n"
    "line (logfmt) goes to stderr every --status-seconds (default 10; 0 = never). SIGINT or\n"
    "SIGTERM stops after the current batch, flushing everything (exit 0). --metrics-file F\n"
    "keeps SPEC.md §6's metrics there in Prometheus' text format, rewritten atomically with each\n"
    "status line and at exit (for node_exporter's textfile collector, or promtool).\n"
    "--state DIR keeps checkpoints of all keyed state with the source's position in RocksDB\n"
    "(every --checkpoint-interval, default 1s, and at stop): a restarted engine restores the\n"
    "latest and resumes the source from there, so its state is exactly as if it never stopped.\n"
    "On Kafka, records between the checkpoint and the group's committed offsets are applied\n"
    "again without output (theirs were delivered); outputs of a batch delivered but not yet\n"
    "committed when the engine died are written again (at-least-once), unless the spec's\n"
    "output sets exactly_once: true (Kafka transactions: outputs, dead letters and offsets\n"
    "commit together). --max-records N stops after N records (benchmarks and tests).\n";

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

void InstallHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns, so the stop is seen at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

int RunRun(int argc, char** argv) {
  if (HelpAsked(argc, argv, kHelp)) return 0;
  Args args;
  std::string err;
  if (!args.Parse(argc, argv, 2,
                  {"input", "output", "dead-letter", "threads", "batch-bytes", "status-seconds",
                   "metrics-file", "state", "checkpoint-interval", "max-records"},
                  {"follow"}, &err))
    return Fail("run", err, 2);
  if (args.positional().size() != 1) return Fail("run", "needs exactly one SPEC (see --help)", 2);
  auto p = spec::LoadPipeline(args.positional()[0]);
  if (!p.ok()) return Fail("run", p.status().message(), 2);
  engine::RunOptions o;
  o.input = args.Get("input");
  o.output = args.Get("output");
  o.dead_letter = args.Get("dead-letter");
  o.follow = args.Has("follow");
  o.threads = std::atoi(args.Get("threads", "1").c_str());
  if (o.threads < 1 || o.threads > 256) return Fail("run", "--threads must be between 1 and 256", 2);
  const long long batch = std::atoll(args.Get("batch-bytes", "262144").c_str());
  if (batch < 1) return Fail("run", "--batch-bytes must be positive", 2);
  o.batch_bytes = static_cast<size_t>(batch);
  o.status_seconds = std::atof(args.Get("status-seconds", "10").c_str());
  o.stop = &g_stop;
  monitor::Registry metrics;
  o.metrics = &metrics;
  o.metrics_file = args.Get("metrics-file");
  o.state_dir = args.Get("state");
  o.max_records = std::atoll(args.Get("max-records", "0").c_str());
  auto interval = core::ParseDuration(args.Get("checkpoint-interval", "1s"));
  if (!interval.ok()) return Fail("run", "--checkpoint-interval: " + interval.status().message(), 2);
  o.checkpoint_seconds = interval->seconds();
  InstallHandlers();
  auto stats = engine::RunPipeline(*p, o);
  if (!stats.ok()) {
    const bool usage = stats.status().code() == core::Code::kInvalidArgument;
    return Fail("run", stats.status().message(), usage ? 2 : 1);
  }
  return 0;
}

}  // namespace sluice::cli
