#include "sluice/engine/processor.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sluice::engine {

using core::Reason;
using core::Status;

namespace {
double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

Processor::Processor(const spec::Pipeline& p, const features::CompiledFeatures& cf,
                     const ScoringModel* model, ThreadPool* pool)
    : p_(p),
      cf_(cf),
      model_(model),
      pool_(pool),
      schema_size_(p.schema.size()),
      num_features_(cf.num_features),
      num_scores_(model ? model->num_outputs() : 0),
      admission_(cf) {
  for (int i = 0; i < pool_->size(); ++i) {
    decoders_.push_back(io::MakeDecoder(p_));
    shards_.push_back(std::make_unique<features::Shard>(cf_, i, pool_->size()));
  }
  arenas_.resize(pool_->size() + 1);
  header_pending_ = decoders_[0]->NeedsHeader();
}

Processor::~Processor() = default;

std::pair<size_t, size_t> Processor::Range(size_t n, int task) const {
  const size_t tasks = static_cast<size_t>(pool_->size());
  return {n * task / tasks, n * (task + 1) / tasks};
}

int64_t Processor::keys() const {
  int64_t n = 0;
  for (const auto& s : shards_) n += s->keys();
  return n;
}

void Processor::Decode(const io::Chunk& chunk, int task) {
  auto [lo, hi] = Range(chunk.records.size(), task);
  io::StringArena* arena = &arenas_[task];
  arena->Reset();
  for (size_t i = std::max(lo, first_); i < hi; ++i) {
    const io::Record& r = chunk.records[i];
    if (r.oversize) {
      reasons_[i] = Reason::kOversize;
      details_[i] = "record of " + std::to_string(r.length) +
                    " bytes is longer than max_record_bytes (" +
                    std::to_string(p_.source.max_record_bytes) + ")";
      continue;
    }
    io::DecodeError err;
    core::EventTime t;
    if (decoders_[task]->Decode(chunk.Text(r), &values_[i * schema_size_], &t, arena, &err)) {
      reasons_[i] = Reason::kNone;
      times_[i] = t.micros();
    } else {
      reasons_[i] = err.reason;
      details_[i] = std::move(err.detail);
    }
  }
}

// Log order: decides every record's fate and gives applied rows their keys and flags.
Status Processor::Admit(const io::Chunk& chunk, const Hooks& hooks) {
  const size_t nk = cf_.key_spaces.size();
  io::StringArena* arena = &arenas_.back();
  arena->Reset();
  applied_.clear();
  seqs_.clear();
  std::string detail;
  for (size_t i = first_; i < chunk.records.size(); ++i) {
    const int64_t seq = seq_++;
    if (reasons_[i] != Reason::kNone) {
      SLUICE_RETURN_IF_ERROR(hooks.dead_letter(i, reasons_[i], details_[i]));
      continue;
    }
    const size_t r = applied_.size();
    if (keys_.size() < (r + 1) * nk) {
      keys_.resize((r + 1) * nk * 2);
      flags_.resize((r + 1) * nk * 2);
    }
    const core::Value* fields = &values_[i * schema_size_];
    for (size_t k = 0; k < nk; ++k)
      keys_[r * nk + k] = features::EncodeKey(cf_.key_spaces[k], fields, arena);
    const Reason verdict = admission_.Admit(times_[i], &keys_[r * nk], &flags_[r * nk], &detail);
    if (verdict != Reason::kNone) {
      SLUICE_RETURN_IF_ERROR(hooks.dead_letter(i, verdict, detail));
      continue;
    }
    applied_.push_back(static_cast<int32_t>(i));
    seqs_.push_back(seq);
    if (hooks.applied) SLUICE_RETURN_IF_ERROR(hooks.applied(i, times_[i], fields));
  }
  return Status::Ok();
}

void Processor::ApplyShards() {
  const size_t rows = applied_.size(), nk = cf_.key_spaces.size();
  rows_.resize(rows * num_features_);
  scores_.resize(rows * num_scores_);
  shard_rows_.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    const int i = applied_[r];
    shard_rows_[r] = {times_[i], seqs_[r], &values_[i * schema_size_], &keys_[r * nk],
                      &flags_[r * nk]};
  }
  const int n = pool_->size();
  shard_out_.resize(n > 1 ? n : 0);
  for (auto& o : shard_out_) o.resize(rows * num_features_);
  // Idle keys leave memory once the stream has moved on by half a TTL since the last sweep.
  const bool sweep = admission_.stream_time() - last_sweep_ >= cf_.ttl_us / 2;
  if (sweep) last_sweep_ = admission_.stream_time();
  pool_->Run(n, [&](int s) {
    double* out = n > 1 ? shard_out_[s].data() : rows_.data();
    shards_[s]->ApplyBatch(shard_rows_.data(), rows, out, num_features_);
    if (sweep) shards_[s]->Sweep(admission_.stream_time());
  });
}

// With several shards, each wrote the cells of the keys it owns into its own array.
void Processor::GatherRow(size_t r, double* row) const {
  const size_t nk = cf_.key_spaces.size();
  const features::KeyRef* keys = &keys_[r * nk];
  for (size_t f = 0; f < num_features_; ++f) {
    const int ks = cf_.feature_key_space[f];
    if (ks < 0) continue;  // an expression, computed next
    const int owner = keys[ks].null ? 0 : features::OwnerShard(keys[ks].hash, pool_->size());
    row[f] = shard_out_[owner][r * num_features_ + f];
  }
}

void Processor::Finish(int task) {
  auto [lo, hi] = Range(applied_.size(), task);
  thread_local std::vector<double> stack;
  stack.resize(cf_.expressions.max_depth() + 1);
  const double per_unit = static_cast<double>(core::MicrosPerUnit(p_.time_unit));
  for (size_t r = lo; r < hi; ++r) {
    const int i = applied_[r];
    double* row = &rows_[r * num_features_];
    if (pool_->size() > 1) GatherRow(r, row);
    cf_.expressions.Evaluate(row, &values_[i * schema_size_],
                             static_cast<double>(times_[i]) / per_unit, stack.data());
  }
  if (model_ && hi > lo) Score(lo, hi);
}

// Scores rows [lo, hi) in blocks: the model's batch path, the same results as one by one.
void Processor::Score(size_t lo, size_t hi) {
  constexpr size_t kBlock = 256;
  thread_local std::vector<double> scratch;
  const core::Value* fields[kBlock];
  for (size_t start = lo; start < hi; start += kBlock) {
    const size_t n = std::min(kBlock, hi - start);
    for (size_t k = 0; k < n; ++k) fields[k] = &values_[applied_[start + k] * schema_size_];
    model_->ScoreBatch(&rows_[start * num_features_], num_features_, fields, n, &scratch,
                       &scores_[start * num_scores_]);
  }
}

Status Processor::Process(const io::Chunk& chunk, const std::string& source_name,
                          const Hooks& hooks) {
  const size_t n = chunk.records.size();
  values_.resize(n * schema_size_);
  times_.assign(n, 0);
  reasons_.assign(n, Reason::kNone);
  details_.resize(n);
  first_ = 0;
  if (header_pending_ && n > 0) {
    // The CSV header is the first record; every decoder reads it, no step counts it.
    for (auto& d : decoders_)
      SLUICE_RETURN_IF_ERROR(d->SetHeader(chunk.Text(chunk.records[0])).WithContext(source_name));
    header_pending_ = false;
    first_ = 1;
  }
  records_ += static_cast<int64_t>(n - first_);
  auto t = std::chrono::steady_clock::now();
  pool_->Run(pool_->size(), [&](int task) { Decode(chunk, task); });
  stage_seconds_[0] += Since(t);
  t = std::chrono::steady_clock::now();
  SLUICE_RETURN_IF_ERROR(Admit(chunk, hooks));
  stage_seconds_[1] += Since(t);
  t = std::chrono::steady_clock::now();
  ApplyShards();
  stage_seconds_[2] += Since(t);
  // A restored key's state is decoded when the key is first used (lazy restore); a malformed one
  // stops the engine before any output of this chunk is written or checkpointed.
  for (const auto& s : shards_) SLUICE_RETURN_IF_ERROR(s->error());
  t = std::chrono::steady_clock::now();
  pool_->Run(pool_->size(), [this](int task) { Finish(task); });
  stage_seconds_[3] += Since(t);
  return Status::Ok();
}

Status Processor::SaveCheckpoint(CheckpointStore* store, uint64_t id,
                                 std::vector<SourcePosition> positions) {
  for (auto& pos : positions) pos.records = records_;
  std::vector<features::Shard*> shards;
  for (const auto& s : shards_) shards.push_back(s.get());
  const CheckpointMode mode = delta_ok_ ? CheckpointMode::kAuto : CheckpointMode::kFull;
  // A failed write consumed the change sets: only a full checkpoint is right after it.
  delta_ok_ = false;
  SLUICE_RETURN_IF_ERROR(
      WriteCheckpointAsync(store, id, std::move(positions), cf_, &admission_, shards, mode));
  delta_ok_ = true;
  return Status::Ok();
}

core::Result<CheckpointInfo> Processor::Restore(CheckpointStore* store) {
  std::vector<features::Shard*> shards;
  for (auto& s : shards_) shards.push_back(s.get());
  auto info = RestoreLatest(store, cf_, &admission_, shards);
  if (!info.ok()) return info.status();
  for (const auto& pos : info->positions) records_ = std::max(records_, pos.records);
  seq_ = records_;  // log sequence numbers continue where the checkpoint stopped
  last_sweep_ = admission_.stream_time();
  delta_ok_ = true;
  return info;
}

void Processor::ForEachRange(const std::function<void(int task, size_t lo, size_t hi)>& fn) {
  pool_->Run(pool_->size(), [&](int task) {
    auto [lo, hi] = Range(applied_.size(), task);
    fn(task, lo, hi);
  });
}

}  // namespace sluice::engine
