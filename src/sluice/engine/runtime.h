#pragma once
// The streaming engine, `sluice run` (SPEC.md §1): source -> decode -> admit -> shards ->
// expressions -> model -> sink, through the same Processor as backfill, so what it serves equals
// what backfill computes over the log it consumed. Records are processed in micro-batches of
// what has arrived (at most batch_bytes), each batch's outputs written and flushed before the next
// is read: a slow sink slows consumption and memory stays bounded.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "sluice/core/reason.h"
#include "sluice/core/status.h"
#include "sluice/monitor/metrics.h"
#include "sluice/spec/pipeline.h"

namespace sluice::engine {

struct RunOptions {
  std::string input;        // overrides source.file; "-" is stdin
  std::string output;       // overrides output.file; "-" is stdout
  std::string dead_letter;  // overrides dead_letter.file
  bool follow = false;      // keep reading a file as it grows (tail -f)
  int threads = 1;
  int64_t max_records = 0;  // stop after this many records (0: never; benchmarks, tests)
  size_t batch_bytes = 256 << 10;
  double status_seconds = 10;              // a status line to stderr this often; 0: never
  const std::atomic<bool>* stop = nullptr;  // set (by a signal handler) to stop after the batch
  std::function<void(const std::string& line)> log;  // structured log lines; default stderr
  monitor::Registry* metrics = nullptr;  // SPEC.md §6 metrics are kept here when given
  std::string metrics_file;  // the text format, rewritten (atomically) with every status line
  // Checkpoints (docs/checkpoints.md): with a state folder, the engine restores the latest
  // checkpoint at start, resumes its source from there, writes one every checkpoint_seconds
  // (between batches) and a last one when it stops.
  std::string state_dir;
  double checkpoint_seconds = 1;
};

struct RunStats {
  int64_t records = 0, applied = 0, dead_letters = 0, outputs = 0, keys = 0, checkpoints = 0;
  int64_t by_reason[core::kNumReasons] = {};
  // records applied again after a restart without output: theirs had been delivered (Kafka)
  int64_t replayed = 0;
  double seconds = 0;
  double busy_seconds = 0;  // from the first record read to the last batch written
};

core::Result<RunStats> RunPipeline(const spec::Pipeline& p, const RunOptions& o);

}  // namespace sluice::engine
