#pragma once
// Offline backfill (SPEC.md §1, §4): replays a log in file order through the same admission,
// shards and expressions the streaming engine uses and writes one CSV row per applied event.
// Work is split into chunks of records; within a chunk, decoding, shards and formatting run in
// parallel and admission runs in log order, so the output is byte-identical for any --threads.
#include <cstdint>
#include <functional>
#include <string>

#include "sluice/core/reason.h"
#include "sluice/core/status.h"
#include "sluice/spec/pipeline.h"

namespace sluice::engine {

struct BackfillOptions {
  std::string input;        // overrides source.file; "-" is stdin
  std::string output;       // CSV path
  std::string dead_letter;  // overrides dead_letter.file; empty: not written (still counted)
  std::string labels;       // labels file; needs the spec's labels: block
  int threads = 1;
  bool no_score = false;  // with a model in the spec: leave the score columns out
  size_t chunk_bytes = 4 << 20;
  std::function<void(int64_t bytes_read)> progress;  // may be empty
};

struct BackfillStats {
  int64_t records = 0;  // every record read (empty lines are not records)
  int64_t applied = 0;
  int64_t dead_letters = 0;  // event records dead-lettered (labels counted apart)
  int64_t by_reason[core::kNumReasons] = {};
  int64_t label_dead_letters = 0;
  int64_t labels_joined = 0;
  int64_t keys = 0;  // live keys at the end, summed over key spaces
  int64_t bytes = 0;
  double seconds = 0;
};

core::Result<BackfillStats> RunBackfill(const spec::Pipeline& p, const BackfillOptions& opts);

}  // namespace sluice::engine
