#include "sluice/engine/runtime.h"

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "sluice/core/number_format.h"
#include "sluice/engine/endpoints.h"
#include "sluice/engine/output_json.h"
#include "sluice/engine/processor.h"
#include "sluice/engine/scoring.h"
#include "sluice/engine/thread_pool.h"
#include "sluice/features/compiled.h"
#include "sluice/io/dead_letter.h"
#include "sluice/io/file_writer.h"
#include "sluice/io/record_reader.h"

namespace sluice::engine {

using core::Reason;
using core::Result;
using core::Status;

namespace {

// Checkpoints allocate and free tens of MB every interval on the store's thread (each delta's
// copy in RocksDB's memtable, whose arena is freed at flush; chunk buffers). glibc gives such
// memory back to the kernel (munmap above a dynamic threshold, trimming of free heap tops), and the
// next checkpoint faults it in again page by page: 10-20 µs per 4 KiB on small VMs, and munmap
// takes the address-space lock the engine thread's own page faults need. Keeping up to 512 MiB
// of freed memory per heap top and serving blocks up to 32 MiB from the heaps recycles it
// (docs/operations.md). Process-wide; set once, before the store's threads start.
void KeepFreedMemory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

using Clock = std::chrono::steady_clock;

// "2026-11-25T02:40:00Z level=info msg=... k=v ..." — logfmt, one line per event.
std::string LogLine(const std::string& level, const std::string& msg, const std::string& kv) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(ts) + " level=" + level + " msg=\"" + msg + "\"" + (kv.empty() ? "" : " ") +
         kv;
}

class Runtime {
 public:
  Runtime(const spec::Pipeline& p, const RunOptions& o, const features::CompiledFeatures& cf,
          const ScoringModel* model)
      : p_(p), o_(o), model_(model), pool_(o.threads), processor_(p, cf, model, &pool_) {}
  // The sinks go before the source, whose consumer may still revoke partitions as it closes:
  // nothing is delivered then (after an error, as after a crash).
  ~Runtime() {
    if (source_) source_->SetDrain(nullptr);
  }

  Status Open();
  Result<RunStats> Run();

 private:
  Status Batch(Clock::time_point read_at);
  Status OpenTransaction();
  void LogWarnings();
  Status DeadLetter(size_t i, Reason r, std::string_view detail);
  void Log(const std::string& level, const std::string& msg, const std::string& kv) const;
  void MaybeStatus(bool force);
  void InitMetrics();
  Status Restore();
  Status MaybeCheckpoint(bool force);
  Status DeliverWritten(bool wait = false);
  void UpdateMetrics(Clock::time_point read_at, bool written);
  void WriteMetricsFile() const;
  // The Kafka key of row r's output: its event id (empty without one).
  std::string_view KeyOf(size_t r) {
    if (p_.event_id_index < 0) return {};
    const core::Value& v = processor_.fields(r)[p_.event_id_index];
    if (v.kind == core::Value::Kind::kString) return v.s;
    key_.clear();
    if (!v.is_null())
      core::AppendInt(v.kind == core::Value::Kind::kInt ? v.i : static_cast<int64_t>(v.AsDouble()),
                      &key_);
    return key_;
  }
  bool Stopping() const { return o_.stop && o_.stop->load(std::memory_order_relaxed); }

  const spec::Pipeline& p_;
  const RunOptions& o_;
  const ScoringModel* model_;
  ThreadPool pool_;
  Processor processor_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<CheckpointStore> store_;
  uint64_t checkpoint_id_ = 0;
  Clock::time_point last_checkpoint_;
  bool dirty_ = false;  // something was applied since the last checkpoint
  bool postponed_ = false;  // the checkpoint due waits for the store's thread
  std::unique_ptr<Sink> out_, dead_;
  std::unique_ptr<OutputTransaction> txn_;  // exactly_once
  // A batch's outputs are waited for while the next one is processed (Sink::FlushWaits; not
  // with exactly_once, whose transaction commits each batch).
  bool defer_delivery_ = false;
  std::string source_name_, line_, key_;
  io::Chunk chunk_;
  std::vector<std::string> parts_;
  std::vector<std::vector<size_t>> ends_;  // per task: where each output line ends in parts_
  RunStats stats_;
  Clock::time_point start_, last_status_, first_batch_, last_batch_;
  int64_t records_at_status_ = 0;
  // SPEC.md §6 metrics (null without a registry).
  monitor::Counter *applied_total_ = nullptr, *dead_total_ = nullptr, *scores_total_ = nullptr;
  monitor::Histogram* latency_ = nullptr;
  monitor::Gauge* keys_ = nullptr;
  monitor::Histogram* checkpoint_seconds_ = nullptr;
  monitor::Counter* checkpoints_postponed_ = nullptr;
  int64_t dead_counted_ = 0;
  monitor::Counter* dead_by_reason_[core::kNumReasons] = {};
  int64_t dead_by_reason_counted_[core::kNumReasons] = {};
};

void Runtime::InitMetrics() {
  monitor::Registry* m = o_.metrics;
  if (!m) return;
  const char* kEvents = "Events read, by what became of them.";
  applied_total_ = m->GetCounter("sluice_events_total", kEvents, {{"result", "applied"}});
  dead_total_ = m->GetCounter("sluice_events_total", kEvents, {{"result", "dead_letter"}});
  latency_ = m->GetHistogram("sluice_event_latency_seconds",
                             "Time from reading an event to its output being written.",
                             monitor::LatencyBuckets());
  keys_ = m->GetGauge("sluice_keys", "Live keys in the engine's state, all key spaces.");
  if (store_) {
    checkpoint_seconds_ = m->GetHistogram("sluice_checkpoint_duration_seconds",
                                          "Engine-thread time per checkpoint: taking the changed "
                                          "state (or listing every key) for the store's thread.",
                                          {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60});
    checkpoints_postponed_ =
        m->GetCounter("sluice_checkpoints_postponed_total",
                      "Checkpoints due while the store's thread was still writing the previous "
                      "one: taken after the next batch instead of waiting for it.");
  }
  if (model_) {
    scores_total_ =
        m->GetCounter("sluice_scores_total", "Events scored, by model and version.",
                      {{"model", model_->name()}, {"version", std::to_string(model_->version())}});
  }
}

// After a batch is written: counts, and each output's latency (all of a batch's events were read
// together and written together, so they share one latency).
void Runtime::UpdateMetrics(Clock::time_point read_at, bool written) {
  monitor::Registry* m = o_.metrics;
  if (!m) return;
  const double rows = static_cast<double>(processor_.rows());
  applied_total_->Inc(rows);
  if (scores_total_ && written) scores_total_->Inc(rows);
  const double secs = std::chrono::duration<double>(Clock::now() - read_at).count();
  if (written && rows > 0) latency_->ObserveMany(secs, processor_.rows());
  dead_total_->Inc(static_cast<double>(stats_.dead_letters - dead_counted_));
  dead_counted_ = stats_.dead_letters;
  for (int r = 1; r < core::kNumReasons; ++r) {
    if (stats_.by_reason[r] == dead_by_reason_counted_[r]) continue;
    if (!dead_by_reason_[r]) {  // registered on a reason's first dead letter, then kept
      dead_by_reason_[r] = m->GetCounter("sluice_dead_letters_total", "Dead letters, by reason.",
                                         {{"reason", core::ReasonName(static_cast<Reason>(r))}});
    }
    dead_by_reason_[r]->Inc(static_cast<double>(stats_.by_reason[r] - dead_by_reason_counted_[r]));
    dead_by_reason_counted_[r] = stats_.by_reason[r];
  }
  keys_->Set(static_cast<double>(processor_.keys()));
  source_->UpdateMetrics(m);
}

// Written to a temporary file and renamed, so a reader never sees half of it.
void Runtime::WriteMetricsFile() const {
  if (!o_.metrics || o_.metrics_file.empty()) return;
  const std::string tmp = o_.metrics_file + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << o_.metrics->Render();
    if (!f.flush()) return;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, o_.metrics_file, ec);
}

void Runtime::Log(const std::string& level, const std::string& msg, const std::string& kv) const {
  const std::string line = LogLine(level, msg, kv);
  if (o_.log) {
    o_.log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

Status Runtime::Open() {
  auto source = OpenSource(p_, {o_.input, o_.follow});
  if (!source.ok()) return source.status();
  source_ = std::move(*source);
  source_name_ = source_->name();
  const auto* out_kafka = p_.output ? &p_.output->kafka : nullptr;
  auto out = OpenSink(o_.output.empty() && p_.output ? p_.output->file : o_.output,
                      out_kafka ? *out_kafka : std::nullopt, "-");
  if (!out.ok()) return out.status();
  out_ = std::move(*out);
  const auto* dead_kafka = p_.dead_letter ? &p_.dead_letter->kafka : nullptr;
  auto dead =
      OpenSink(o_.dead_letter.empty() && p_.dead_letter ? p_.dead_letter->file : o_.dead_letter,
               dead_kafka ? *dead_kafka : std::nullopt, "");
  if (!dead.ok()) return dead.status();
  dead_ = std::move(*dead);
  if (p_.output && p_.output->exactly_once) SLUICE_RETURN_IF_ERROR(OpenTransaction());
  defer_delivery_ = !txn_ && (out_->FlushWaits() || dead_->FlushWaits());
  if (defer_delivery_) source_->SetDrain([this] { return DeliverWritten(true); });
  if (o_.state_dir.empty()) return Status::Ok();
  KeepFreedMemory();
  auto store = CheckpointStore::Open(o_.state_dir);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  return Restore();
}

// exactly_once: outputs (and dead letters on Kafka) go through one transactional producer whose
// transactions also commit the consumed offsets. Its id is the same on every restart of this
// instance (so the new producer fences the old one and aborts what it left open) and differs
// between instances: the spec's name, the group, this host and the state folder, unless the
// output's config sets transactional.id.
Status Runtime::OpenTransaction() {
  if (!o_.input.empty() || !p_.source.kafka)
    return Status::InvalidArgument("output.exactly_once needs the kafka source (not --input)");
  if (!o_.output.empty() || (!o_.dead_letter.empty() && p_.dead_letter && p_.dead_letter->kafka))
    return Status::InvalidArgument(
        "output.exactly_once: --output/--dead-letter would bypass the transaction");
  std::string id;
  const auto& config = p_.output->kafka->config;
  if (auto it = config.find("transactional.id"); it != config.end()) {
    id = it->second;
  } else {
    char host[256] = {};
    (void)gethostname(host, sizeof host - 1);
    std::error_code ec;
    const std::string state =
        o_.state_dir.empty() ? "" : std::filesystem::absolute(o_.state_dir, ec).string();
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx",
                  static_cast<unsigned long long>(std::hash<std::string>{}(state)));
    id = "sluice-" + p_.name + "-" + p_.source.kafka->group + "-" + host + "-" + hash;
  }
  auto txn = OutputTransaction::Open(p_, id);
  if (!txn.ok()) return txn.status();
  txn_ = std::move(*txn);
  out_ = txn_->OutputSink();
  if (auto dead = txn_->DeadLetterSink()) dead_ = std::move(dead);
  Log("info", "exactly-once output", "transactional_id=" + id);
  return Status::Ok();
}

void Runtime::LogWarnings() {
  for (const std::string& w : source_->TakeWarnings()) Log("warn", w, "source=" + source_name_);
}

// The latest checkpoint's state, and the source back at its position: every event after it is
// applied again, so the state is as if the engine had never stopped.
Status Runtime::Restore() {
  const auto start = std::chrono::steady_clock::now();
  auto info = processor_.Restore(store_.get());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!info.ok() && info.status().code() == core::Code::kNotFound) {
    Log("info", "no checkpoint yet: starting afresh", "state=" + o_.state_dir);
    return source_->ResumeEmpty();
  }
  if (!info.ok()) return info.status();
  checkpoint_id_ = info->id;
  SLUICE_RETURN_IF_ERROR(source_->Resume(info->positions));
  Log("info", "restored",
      "checkpoint=" + std::to_string(info->id) + " records=" +
          std::to_string(processor_.records()) + " keys=" + std::to_string(processor_.keys()) +
          " seconds=" + std::to_string(seconds));
  return Status::Ok();
}

Status Runtime::MaybeCheckpoint(bool force) {
  // The last checkpoint (force) must be durable before the engine stops: saves are written
  // on the store's thread.
  if (!store_ || !dirty_) return store_ && force ? store_->Wait() : Status::Ok();
  const auto now = Clock::now();
  if (!force &&
      std::chrono::duration<double>(now - last_checkpoint_).count() < o_.checkpoint_seconds)
    return Status::Ok();
  // One checkpoint at a time, as Flink's: while the store's thread still writes the previous one
  // (a slow disk, a full checkpoint of a large state), the engine goes on and takes this one
  // after a later batch rather than wait. At a stop it waits.
  if (!force && store_->Busy()) {
    if (!postponed_ && checkpoints_postponed_) checkpoints_postponed_->Inc();
    postponed_ = true;
    return Status::Ok();
  }
  postponed_ = false;
  // The checkpoint's positions are those delivered: every batch applied to the state must be.
  if (!force && defer_delivery_) SLUICE_RETURN_IF_ERROR(DeliverWritten());
  SLUICE_RETURN_IF_ERROR(
      processor_.SaveCheckpoint(store_.get(), ++checkpoint_id_, source_->Position()));
  if (force) SLUICE_RETURN_IF_ERROR(store_->Wait());
  const double secs = std::chrono::duration<double>(Clock::now() - now).count();
  if (checkpoint_seconds_) checkpoint_seconds_->Observe(secs);
  last_checkpoint_ = Clock::now();
  dirty_ = false;
  ++stats_.checkpoints;
  return Status::Ok();
}

Status Runtime::DeadLetter(size_t i, Reason r, std::string_view detail) {
  const io::Record& rec = chunk_.records[i];
  io::DeadLetter d;
  d.reason = r;
  d.detail = detail;
  source_->Origin(chunk_, i, &d);
  d.record = chunk_.Text(rec);
  d.truncated = rec.truncated;
  ++stats_.dead_letters;
  ++stats_.by_reason[static_cast<int>(r)];
  line_.clear();
  io::AppendDeadLetterJson(d, &line_);
  line_.pop_back();  // the sink ends lines itself
  return dead_->Write({}, line_);
}

// Waits until every output and dead letter written so far is delivered, then lets the source
// record the progress of the batches that wrote them (waiting for that too with `wait`: on
// the way out, and before partitions are revoked).
Status Runtime::DeliverWritten(bool wait) {
  SLUICE_RETURN_IF_ERROR(out_->Flush());
  SLUICE_RETURN_IF_ERROR(dead_->Flush());
  return source_->Delivered(wait);
}

// One micro-batch: what has arrived, processed, its outputs and dead letters written out.
Status Runtime::Batch(Clock::time_point read_at) {
  // Replayed records (Source::Replaying) change state; their outputs and dead letters were
  // delivered before the restart and are not written again.
  const bool replay = source_->Replaying();
  Processor::Hooks hooks;
  hooks.dead_letter = [this, replay](size_t i, Reason r, std::string_view d) {
    if (!replay) return DeadLetter(i, r, d);
    ++stats_.dead_letters;
    ++stats_.by_reason[static_cast<int>(r)];
    return Status::Ok();
  };
  SLUICE_RETURN_IF_ERROR(processor_.Process(chunk_, source_name_, hooks));
  if (replay) {
    stats_.replayed += static_cast<int64_t>(chunk_.records.size());
    source_->Sealed();
    UpdateMetrics(read_at, false);
    return Status::Ok();
  }
  const bool with_features = p_.output && p_.output->include_features;
  parts_.resize(pool_.size());
  ends_.resize(pool_.size());
  processor_.ForEachRange([&](int task, size_t lo, size_t hi) {
    std::string& out = parts_[task];
    out.clear();
    ends_[task].clear();
    for (size_t r = lo; r < hi; ++r) {
      AppendOutputJson(p_, model_, with_features, processor_.fields(r),
                       core::EventTime::FromMicros(processor_.time_us(r)), processor_.features(r),
                       processor_.scores(r), &out);
      out.pop_back();  // the sink ends lines itself
      ends_[task].push_back(out.size());
    }
  });
  // The previous batch's outputs have usually arrived while this one was processed: waiting
  // for them here, not right after writing them, keeps the sinks' round trips off the engine's
  // path (a batch's offsets still commit only once its outputs are delivered).
  if (defer_delivery_) SLUICE_RETURN_IF_ERROR(DeliverWritten());
  size_t r = 0;
  for (int t = 0; t < pool_.size(); ++t) {
    size_t start = 0;
    for (size_t end : ends_[t]) {
      SLUICE_RETURN_IF_ERROR(out_->Write(KeyOf(r++), {parts_[t].data() + start, end - start}));
      start = end;
    }
  }
  source_->Sealed();
  // Deferred only when the engine is saturated (its batches fill up): one that keeps up delivers
  // at once, as its outputs' latency is then what matters (deferring there added 7-10 ms p50 at
  // 20,000 events/s on kafka-dev, docs/benchmarks.md).
  const bool saturated = chunk_.data.size() >= o_.batch_bytes / 2;
  if (!txn_ && (!defer_delivery_ || !saturated)) SLUICE_RETURN_IF_ERROR(DeliverWritten());
  if (txn_) {
    // Outputs, dead letters and the offsets that produced them commit in one transaction.
    SLUICE_RETURN_IF_ERROR(out_->Flush());
    SLUICE_RETURN_IF_ERROR(dead_->Flush());
    SLUICE_RETURN_IF_ERROR(txn_->Commit(source_.get()));
  }
  stats_.outputs += static_cast<int64_t>(processor_.rows());
  UpdateMetrics(read_at, true);
  return Status::Ok();
}

void Runtime::MaybeStatus(bool force) {
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_status_).count();
  if (!force && (o_.status_seconds <= 0 || since < o_.status_seconds)) return;
  const int64_t records = processor_.records();
  const double rate = since > 0 ? static_cast<double>(records - records_at_status_) / since : 0;
  Log("info", "status",
      "records=" + std::to_string(records) +
          " applied=" + std::to_string(records - stats_.dead_letters) + " dead_letters=" +
          std::to_string(stats_.dead_letters) + " outputs=" + std::to_string(stats_.outputs) +
          " checkpoints=" + std::to_string(stats_.checkpoints) + " keys=" +
          std::to_string(processor_.keys()) + " events_per_s=" + std::to_string(std::lround(rate)));
  last_status_ = now;
  records_at_status_ = records;
  WriteMetricsFile();
}

Result<RunStats> Runtime::Run() {
  start_ = last_status_ = last_checkpoint_ = Clock::now();
  InitMetrics();
  Log("info", "started",
      "pipeline=" + p_.name + " source=" + source_name_ +
          " threads=" + std::to_string(pool_.size()) +
          (model_
               ? " model=" + model_->name() + " model_version=" + std::to_string(model_->version())
               : ""));
  while (!Stopping()) {
    auto more = source_->Next(&chunk_, o_.batch_bytes, std::chrono::milliseconds(50));
    if (!more.ok()) return more.status();
    LogWarnings();
    const auto read_at = Clock::now();
    if (!chunk_.records.empty()) {
      // This process's first batch (records() counts on from a restored checkpoint's position).
      if (first_batch_ == Clock::time_point{}) first_batch_ = read_at;
      SLUICE_RETURN_IF_ERROR(Batch(read_at));
      last_batch_ = Clock::now();
      dirty_ = true;
    } else if (defer_delivery_) {
      SLUICE_RETURN_IF_ERROR(DeliverWritten());  // nothing new: commit what is out
    }
    SLUICE_RETURN_IF_ERROR(MaybeCheckpoint(false));
    MaybeStatus(false);
    if (!*more || (o_.max_records > 0 && processor_.records() >= o_.max_records)) break;
  }
  SLUICE_RETURN_IF_ERROR(DeliverWritten(true));
  SLUICE_RETURN_IF_ERROR(out_->Close());
  SLUICE_RETURN_IF_ERROR(dead_->Close());
  SLUICE_RETURN_IF_ERROR(MaybeCheckpoint(true));  // the last one, so a restart resumes right here
  stats_.records = processor_.records();
  stats_.applied = stats_.records - stats_.dead_letters;
  stats_.keys = processor_.keys();
  stats_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  stats_.busy_seconds = std::chrono::duration<double>(last_batch_ - first_batch_).count();
  MaybeStatus(true);
  Log("info", Stopping() ? "stopped on signal" : "end of input",
      "records=" + std::to_string(stats_.records) + " outputs=" + std::to_string(stats_.outputs) +
          " replayed=" + std::to_string(stats_.replayed) +
          " busy_seconds=" + std::to_string(stats_.busy_seconds));
  return stats_;
}

}  // namespace

Result<RunStats> RunPipeline(const spec::Pipeline& p, const RunOptions& o) {
  auto cf = features::Compile(p);
  if (!cf.ok()) return cf.status();
  std::unique_ptr<ScoringModel> model;
  if (p.model) {
    auto m = ScoringModel::Load(p);
    if (!m.ok()) return m.status();
    model = std::move(*m);
  }
  Runtime r(p, o, **cf, model.get());
  SLUICE_RETURN_IF_ERROR(r.Open());
  return r.Run();
}

}  // namespace sluice::engine
