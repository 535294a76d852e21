#pragma once
// The path every event takes, offline and online alike (docs/architecture.md): decode, admit in
// log order, apply to the shards owning its keys, compute expressions, score. Backfill and the
// streaming runtime both feed it chunks of records and read the results; only what they do with
// the results differs (CSV rows with labels; JSONL outputs to a sink). Sharing this one class is
// what makes a training set identical to what was served.
// Not thread-safe: one thread calls Process; inside, steps run on the given ThreadPool.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/reason.h"
#include "sluice/core/status.h"
#include "sluice/core/value.h"
#include "sluice/engine/checkpoint_store.h"
#include "sluice/engine/scoring.h"
#include "sluice/engine/thread_pool.h"
#include "sluice/features/admission.h"
#include "sluice/features/compiled.h"
#include "sluice/features/shard.h"
#include "sluice/io/decoder.h"
#include "sluice/io/record_reader.h"
#include "sluice/spec/pipeline.h"

namespace sluice::engine {

class Processor {
 public:
  // Called in log order while a chunk is admitted. `record` indexes the chunk's records.
  struct Hooks {
    // A record that is not applied (decode error, oversize, late, expired).
    std::function<core::Status(size_t record, core::Reason reason, std::string_view detail)>
        dead_letter;
    // An applied record, before its features exist (label joins match here, in log order).
    std::function<core::Status(size_t record, int64_t time_us, const core::Value* fields)> applied;
  };

  // `model` may be null. All must outlive the Processor.
  Processor(const spec::Pipeline& p, const features::CompiledFeatures& cf, const ScoringModel* model,
            ThreadPool* pool);
  ~Processor();

  // Processes a chunk of records in log order (the first record of a CSV source is its header).
  // Results stay readable until the next call.
  core::Status Process(const io::Chunk& chunk, const std::string& source_name, const Hooks& hooks);

  // The applied rows of the last chunk, in log order.
  size_t rows() const { return applied_.size(); }
  size_t record(size_t r) const { return static_cast<size_t>(applied_[r]); }
  int64_t time_us(size_t r) const { return times_[applied_[r]]; }
  const core::Value* fields(size_t r) const { return &values_[applied_[r] * schema_size_]; }
  const double* features(size_t r) const { return &rows_[r * num_features_]; }  // NaN = null
  const double* scores(size_t r) const { return num_scores_ ? &scores_[r * num_scores_] : nullptr; }
  size_t num_scores() const { return num_scores_; }
  // Runs fn(task, lo, hi) over the applied rows split across the pool (to format output).
  void ForEachRange(const std::function<void(int task, size_t lo, size_t hi)>& fn);

  int64_t records() const { return records_; }
  // Between chunks: every key's state and admission, with the sources' positions (their
  // `records` set to this processor's count) — only what changed since the last checkpoint when
  // the store's current one is this processor's own (saved or restored), and that is cheaper.
  // Returns once the records are serialised; the store's thread writes them (store->Wait() for
  // the checkpoint to be durable). A save first waits for the previous one to be durable.
  // Restore: the latest checkpoint into this (fresh) processor, returning its positions;
  // NotFound when there is none.
  core::Status SaveCheckpoint(CheckpointStore* store, uint64_t id,
                              std::vector<SourcePosition> positions);
  core::Result<CheckpointInfo> Restore(CheckpointStore* store);
  int64_t keys() const;
  // Seconds spent per step: decode, admit, shards, finish (expressions and scores).
  const double* stage_seconds() const { return stage_seconds_; }

 private:
  void Decode(const io::Chunk& chunk, int task);
  core::Status Admit(const io::Chunk& chunk, const Hooks& hooks);
  void ApplyShards();
  void Finish(int task);
  void GatherRow(size_t r, double* row) const;
  void Score(size_t lo, size_t hi);
  std::pair<size_t, size_t> Range(size_t n, int task) const;

  const spec::Pipeline& p_;
  const features::CompiledFeatures& cf_;
  const ScoringModel* model_;
  ThreadPool* pool_;
  const size_t schema_size_, num_features_, num_scores_;
  features::Admission admission_;
  std::vector<std::unique_ptr<features::Shard>> shards_;
  std::vector<std::unique_ptr<io::Decoder>> decoders_;
  std::vector<io::StringArena> arenas_;  // one per decode task, plus one for keys
  bool header_pending_;
  size_t first_ = 0;  // 1 when the chunk's first record was the CSV header
  int64_t seq_ = 0, records_ = 0, last_sweep_ = 0;
  // The store's current checkpoint is this state's last save or restore: a delta may follow.
  bool delta_ok_ = false;
  double stage_seconds_[4] = {};
  // Per record of the chunk.
  std::vector<core::Value> values_;  // record i's fields at [i * F, (i + 1) * F)
  std::vector<int64_t> times_;
  std::vector<core::Reason> reasons_;
  std::vector<std::string> details_;
  // Per applied row.
  std::vector<int32_t> applied_;
  std::vector<int64_t> seqs_;
  std::vector<features::KeyRef> keys_;  // row r's keys at [r * K, (r + 1) * K)
  std::vector<uint8_t> flags_;
  std::vector<double> rows_, scores_;
  std::vector<features::Shard::Row> shard_rows_;
  std::vector<std::vector<double>> shard_out_;  // per shard, when there are several
};

}  // namespace sluice::engine
