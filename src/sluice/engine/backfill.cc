#include "sluice/engine/backfill.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "sluice/core/number_format.h"
#include "sluice/engine/label_join.h"
#include "sluice/engine/row_format.h"
#include "sluice/engine/scoring.h"
#include "sluice/engine/thread_pool.h"
#include "sluice/features/admission.h"
#include "sluice/features/compiled.h"
#include "sluice/features/shard.h"
#include "sluice/io/dead_letter.h"
#include "sluice/io/decoder.h"
#include "sluice/io/file_writer.h"
#include "sluice/io/record_reader.h"

namespace sluice::engine {

using core::Reason;
using core::Result;
using core::Status;

namespace {

// One chunk of records on its way through the stages. Reused from chunk to chunk.
struct Batch {
  io::Chunk chunk;
  std::vector<core::Value> values;  // record i's fields at [i * F, (i + 1) * F)
  std::vector<int64_t> times;
  std::vector<Reason> reasons;  // kNone: decoded (and, after admission, applied)
  std::vector<std::string> details;
  std::vector<features::KeyRef> keys;  // applied row r's keys at [r * K, (r + 1) * K)
  std::vector<uint8_t> flags;
  std::vector<int32_t> applied;  // record index per applied row, in log order
  std::vector<int64_t> seqs;     // per applied row
  std::vector<double> rows;      // applied row r's features at [r * N, (r + 1) * N)
  std::vector<double> scores;    // applied row r's scores at [r * S, (r + 1) * S) (with a model)
  std::vector<features::Shard::Row> shard_rows;
  std::vector<std::vector<double>> shard_out;      // per shard, when there are several: its cells
  std::vector<double> labels;                      // per applied row (labels only)
  std::vector<std::string> parts;                  // formatted CSV, one per format task
  std::vector<std::vector<uint32_t>> row_lengths;  // per format task (labels only)
};

class Backfill {
 public:
  // `model` may be null (no scores); it must outlive the Backfill.
  Backfill(const spec::Pipeline& p, const BackfillOptions& o, const features::CompiledFeatures& cf,
           const ScoringModel* model)
      : p_(p), o_(o), cf_(cf), model_(model), pool_(o.threads), admission_(cf) {}

  Status Open();
  Result<BackfillStats> Run();

 private:
  Status ProcessChunk();
  void Decode(int task);
  Status Admit();
  Status DeadLetter(int i, Reason r, std::string_view detail);
  void Format(int task);
  void Score(size_t lo, size_t hi);
  void GatherRow(size_t r, double* row) const;
  Status WriteLabelled();
  std::pair<size_t, size_t> Range(size_t n, int task) const {
    const size_t tasks = static_cast<size_t>(pool_.size());
    return {n * task / tasks, n * (task + 1) / tasks};
  }

  const spec::Pipeline& p_;
  const BackfillOptions& o_;
  const features::CompiledFeatures& cf_;
  const ScoringModel* model_;
  ThreadPool pool_;
  features::Admission admission_;
  std::vector<std::unique_ptr<features::Shard>> shards_;
  std::vector<std::unique_ptr<io::Decoder>> decoders_;
  std::vector<io::StringArena> arenas_;  // one per decode task, plus one for keys
  std::unique_ptr<io::RecordReader> reader_;
  std::unique_ptr<io::FileWriter> out_;
  std::unique_ptr<io::DeadLetterSink> dead_;
  std::unique_ptr<LabelJoin> labels_;
  std::string input_, out_path_, source_name_;
  Batch b_;
  BackfillStats stats_;
  int64_t seq_ = 0;
  int64_t chunks_ = 0;
  int64_t last_sweep_ = 0;
  double stage_seconds_[4] =
      {};  // decode, admit, shards, format (SLUICE_STAGE_TIMES=1 prints them)
  bool header_pending_ = false;
  // With labels, rows go to a temporary file first: the default label needs the end of the data.
  std::vector<uint32_t> all_row_lengths_;
  std::vector<double> all_labels_;
  std::vector<int64_t> all_times_;
};

Status Backfill::Open() {
  input_ = o_.input.empty() ? p_.source.file : o_.input;
  if (input_.empty())
    return Status::InvalidArgument("no input: give --input or source.file in the spec");
  source_name_ = input_ == "-" ? "stdin" : input_;
  const auto framing = p_.source.format == spec::Format::kCsv ? io::RecordReader::Framing::kCsv
                                                              : io::RecordReader::Framing::kLines;
  auto reader = io::RecordReader::Open(input_, framing, p_.source.max_record_bytes);
  if (!reader.ok()) return reader.status();
  reader_ = std::move(reader.value());
  std::string dead_path = o_.dead_letter;
  if (dead_path.empty() && p_.dead_letter) dead_path = p_.dead_letter->file;
  auto dead = io::DeadLetterSink::Open(dead_path);
  if (!dead.ok()) return dead.status();
  dead_ = std::move(dead.value());
  if (!o_.labels.empty()) {
    auto l = LabelJoin::Load(p_, o_.labels, dead_.get());
    if (!l.ok()) return l.status();
    labels_ = std::move(l.value());
  }
  out_path_ = labels_ ? o_.output + ".unlabelled.tmp" : o_.output;
  auto out = io::FileWriter::Create(out_path_);
  if (!out.ok()) return out.status();
  out_ = std::move(out.value());
  AppendHeader(p_, model_ ? model_->columns() : std::vector<std::string>{}, labels_ != nullptr,
               out_->buffer());
  for (int i = 0; i < pool_.size(); ++i) {
    decoders_.push_back(io::MakeDecoder(p_));
    shards_.push_back(std::make_unique<features::Shard>(cf_, i, pool_.size()));
  }
  arenas_.resize(pool_.size() + 1);
  header_pending_ = decoders_[0]->NeedsHeader();
  return Status::Ok();
}

void Backfill::Decode(int task) {
  auto [lo, hi] = Range(b_.chunk.records.size(), task);
  const size_t nf = p_.schema.size();
  io::StringArena* arena = &arenas_[task];
  arena->Reset();
  for (size_t i = lo; i < hi; ++i) {
    const io::Record& r = b_.chunk.records[i];
    if (r.oversize) {
      b_.reasons[i] = Reason::kOversize;
      b_.details[i] = "record of " + std::to_string(r.length) +
                      " bytes is longer than max_record_bytes (" +
                      std::to_string(p_.source.max_record_bytes) + ")";
      continue;
    }
    io::DecodeError err;
    core::EventTime t;
    if (decoders_[task]->Decode(b_.chunk.Text(r), &b_.values[i * nf], &t, arena, &err)) {
      b_.reasons[i] = Reason::kNone;
      b_.times[i] = t.micros();
    } else {
      b_.reasons[i] = err.reason;
      b_.details[i] = std::move(err.detail);
    }
  }
}

Status Backfill::DeadLetter(int i, Reason r, std::string_view detail) {
  const io::Record& rec = b_.chunk.records[i];
  io::DeadLetter d;
  d.reason = r;
  d.detail = detail;
  d.source = source_name_;
  d.position = rec.line;
  d.record = b_.chunk.Text(rec);
  d.truncated = rec.truncated;
  ++stats_.dead_letters;
  ++stats_.by_reason[static_cast<int>(r)];
  return dead_->Write(d);
}

// Log order: decides every record's fate and gives applied rows their keys and flags.
Status Backfill::Admit() {
  const size_t nf = p_.schema.size(), nk = cf_.key_spaces.size();
  const int id_field = p_.event_id_index;
  io::StringArena* arena = &arenas_.back();
  arena->Reset();
  b_.applied.clear();
  b_.seqs.clear();
  b_.labels.clear();
  std::string detail;
  for (size_t i = 0; i < b_.chunk.records.size(); ++i) {
    const int64_t seq = seq_++;
    if (b_.reasons[i] != Reason::kNone) {
      SLUICE_RETURN_IF_ERROR(DeadLetter(static_cast<int>(i), b_.reasons[i], b_.details[i]));
      continue;
    }
    const size_t r = b_.applied.size();
    if (b_.keys.size() < (r + 1) * nk) {
      b_.keys.resize((r + 1) * nk * 2);
      b_.flags.resize((r + 1) * nk * 2);
    }
    const core::Value* fields = &b_.values[i * nf];
    for (size_t k = 0; k < nk; ++k)
      b_.keys[r * nk + k] = features::EncodeKey(cf_.key_spaces[k], fields, arena);
    const Reason verdict =
        admission_.Admit(b_.times[i], &b_.keys[r * nk], &b_.flags[r * nk], &detail);
    if (verdict != Reason::kNone) {
      SLUICE_RETURN_IF_ERROR(DeadLetter(static_cast<int>(i), verdict, detail));
      continue;
    }
    b_.applied.push_back(static_cast<int32_t>(i));
    b_.seqs.push_back(seq);
    if (labels_) {
      labels_->NoteEventTime(b_.times[i]);
      double label = std::nan("");
      if (id_field >= 0) {
        auto m = labels_->Match(fields[id_field], b_.times[i], dead_.get());
        if (!m.ok()) return m.status();
        label = *m;
      }
      b_.labels.push_back(label);
    }
  }
  stats_.applied += static_cast<int64_t>(b_.applied.size());
  return Status::Ok();
}

// With several shards, each wrote the cells of the keys it owns into its own array.
void Backfill::GatherRow(size_t r, double* row) const {
  const size_t nfeat = cf_.num_features, nk = cf_.key_spaces.size();
  const features::KeyRef* keys = &b_.keys[r * nk];
  for (size_t f = 0; f < nfeat; ++f) {
    const int ks = cf_.feature_key_space[f];
    if (ks < 0) continue;  // an expression, computed next
    const int owner = keys[ks].null ? 0 : features::OwnerShard(keys[ks].hash, pool_.size());
    row[f] = b_.shard_out[owner][r * nfeat + f];
  }
}

void Backfill::Format(int task) {
  auto [lo, hi] = Range(b_.applied.size(), task);
  const size_t nf = p_.schema.size(), nfeat = cf_.num_features;
  thread_local std::vector<double> stack;
  stack.resize(cf_.expressions.max_depth() + 1);
  const double per_unit = static_cast<double>(core::MicrosPerUnit(p_.time_unit));
  for (size_t r = lo; r < hi; ++r) {
    const int i = b_.applied[r];
    double* row = &b_.rows[r * nfeat];
    if (pool_.size() > 1) GatherRow(r, row);
    cf_.expressions.Evaluate(row, &b_.values[i * nf],
                             static_cast<double>(b_.times[i]) / per_unit, stack.data());
  }
  const size_t ns = model_ ? model_->num_outputs() : 0;
  if (model_ && hi > lo) Score(lo, hi);
  std::string& out = b_.parts[task];
  out.clear();
  b_.row_lengths[task].clear();
  for (size_t r = lo; r < hi; ++r) {
    const int i = b_.applied[r];
    const size_t before = out.size();
    AppendRow(p_, &b_.values[i * nf], core::EventTime::FromMicros(b_.times[i]), &b_.rows[r * nfeat],
              nfeat, ns ? &b_.scores[r * ns] : nullptr, ns, &out);
    if (labels_) b_.row_lengths[task].push_back(static_cast<uint32_t>(out.size() - before));
  }
}

// Scores applied rows [lo, hi) in blocks: the batch path of the model, same results as one by one.
void Backfill::Score(size_t lo, size_t hi) {
  constexpr size_t kBlock = 256;
  const size_t nf = p_.schema.size(), nfeat = cf_.num_features, ns = model_->num_outputs();
  thread_local std::vector<double> scratch;
  const core::Value* fields[kBlock];
  for (size_t start = lo; start < hi; start += kBlock) {
    const size_t n = std::min(kBlock, hi - start);
    for (size_t k = 0; k < n; ++k) fields[k] = &b_.values[b_.applied[start + k] * nf];
    model_->ScoreBatch(&b_.rows[start * nfeat], nfeat, fields, n, &scratch,
                       &b_.scores[start * ns]);
  }
}

Status Backfill::ProcessChunk() {
  const size_t n = b_.chunk.records.size();
  if (header_pending_ && n > 0) {
    // The CSV header is the first record; every decoder reads it.
    for (auto& d : decoders_)
      SLUICE_RETURN_IF_ERROR(
          d->SetHeader(b_.chunk.Text(b_.chunk.records[0])).WithContext(source_name_));
    b_.chunk.records.erase(b_.chunk.records.begin());
    header_pending_ = false;
    return ProcessChunk();
  }
  stats_.records += static_cast<int64_t>(n);
  b_.values.resize(n * p_.schema.size());
  b_.times.resize(n);
  b_.reasons.resize(n);
  b_.details.resize(n);
  auto t0 = std::chrono::steady_clock::now();
  pool_.Run(pool_.size(), [this](int t) { Decode(t); });
  auto t1 = std::chrono::steady_clock::now();
  SLUICE_RETURN_IF_ERROR(Admit());
  auto t2 = std::chrono::steady_clock::now();
  const size_t rows = b_.applied.size(), nk = cf_.key_spaces.size();
  b_.rows.resize(rows * cf_.num_features);
  if (model_) b_.scores.resize(rows * model_->num_outputs());
  b_.shard_rows.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    const int i = b_.applied[r];
    b_.shard_rows[r] = {b_.times[i], b_.seqs[r], &b_.values[i * p_.schema.size()], &b_.keys[r * nk],
                        &b_.flags[r * nk]};
  }
  b_.shard_out.resize(pool_.size() > 1 ? pool_.size() : 0);
  for (auto& o : b_.shard_out) o.resize(rows * cf_.num_features);
  // Idle keys leave memory once the stream has moved on by half a TTL since the last sweep.
  const bool sweep = admission_.stream_time() - last_sweep_ >= cf_.ttl_us / 2;
  if (sweep) last_sweep_ = admission_.stream_time();
  pool_.Run(pool_.size(), [&](int s) {
    double* out = pool_.size() > 1 ? b_.shard_out[s].data() : b_.rows.data();
    shards_[s]->ApplyBatch(b_.shard_rows.data(), rows, out, cf_.num_features);
    if (sweep) shards_[s]->Sweep(admission_.stream_time());
  });
  auto t3 = std::chrono::steady_clock::now();
  b_.parts.resize(pool_.size());
  b_.row_lengths.resize(pool_.size());
  pool_.Run(pool_.size(), [this](int t) { Format(t); });
  auto t4 = std::chrono::steady_clock::now();
  stage_seconds_[0] += std::chrono::duration<double>(t1 - t0).count();
  stage_seconds_[1] += std::chrono::duration<double>(t2 - t1).count();
  stage_seconds_[2] += std::chrono::duration<double>(t3 - t2).count();
  stage_seconds_[3] += std::chrono::duration<double>(t4 - t3).count();
  for (int t = 0; t < pool_.size(); ++t) {
    SLUICE_RETURN_IF_ERROR(out_->Append(b_.parts[t]));
    if (labels_)
      all_row_lengths_.insert(all_row_lengths_.end(), b_.row_lengths[t].begin(),
                              b_.row_lengths[t].end());
  }
  if (labels_) {
    all_labels_.insert(all_labels_.end(), b_.labels.begin(), b_.labels.end());
    for (int i : b_.applied) all_times_.push_back(b_.times[i]);
  }
  ++chunks_;
  return Status::Ok();
}

// Copies the unlabelled rows to the output, appending each row's label.
Status Backfill::WriteLabelled() {
  SLUICE_RETURN_IF_ERROR(out_->Close());
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(out_path_.c_str(), "rb"),
                                                     &std::fclose);
  if (!in) return Status::IoError("cannot reopen " + out_path_);
  auto out = io::FileWriter::Create(o_.output);
  if (!out.ok()) return out.status();
  std::string line;
  // The header line, then each row by its recorded length (rows may hold quoted newlines).
  for (int c; (c = std::fgetc(in.get())) != EOF && c != '\n';) line.push_back(static_cast<char>(c));
  line.push_back('\n');
  SLUICE_RETURN_IF_ERROR((*out)->Append(line));
  for (size_t r = 0; r < all_row_lengths_.size(); ++r) {
    line.resize(all_row_lengths_[r]);
    if (std::fread(line.data(), 1, line.size(), in.get()) != line.size()) {
      return Status::IoError("short read of " + out_path_);
    }
    line.back() = ',';  // replaces the newline
    double label = all_labels_[r];
    if (std::isnan(label)) label = labels_->Resolve(all_times_[r]);
    if (!std::isnan(label)) core::AppendDouble(label, &line);
    line.push_back('\n');
    SLUICE_RETURN_IF_ERROR((*out)->Append(line));
  }
  in.reset();
  std::filesystem::remove(out_path_);
  return (*out)->Close();
}

Result<BackfillStats> Backfill::Run() {
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    auto more = reader_->Next(&b_.chunk, o_.chunk_bytes);
    if (!more.ok()) return more.status();
    SLUICE_RETURN_IF_ERROR(ProcessChunk());
    if (o_.progress) o_.progress(reader_->bytes_read());
    if (!*more) break;
  }
  if (labels_) {
    SLUICE_RETURN_IF_ERROR(labels_->Finish(dead_.get()));
    SLUICE_RETURN_IF_ERROR(WriteLabelled());
    stats_.labels_joined = labels_->joined();
  } else {
    SLUICE_RETURN_IF_ERROR(out_->Close());
  }
  stats_.label_dead_letters = dead_->total() - stats_.dead_letters;
  SLUICE_RETURN_IF_ERROR(dead_->Close());
  for (const auto& s : shards_) stats_.keys += s->keys();
  stats_.bytes = reader_->bytes_read();
  if (std::getenv("SLUICE_STAGE_TIMES")) {
    std::fprintf(stderr, "stages: decode %.3fs, admit %.3fs, shards %.3fs, format %.3fs\n",
                 stage_seconds_[0], stage_seconds_[1], stage_seconds_[2], stage_seconds_[3]);
  }
  stats_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats_;
}

}  // namespace

Result<BackfillStats> RunBackfill(const spec::Pipeline& p, const BackfillOptions& opts) {
  auto cf = features::Compile(p);
  if (!cf.ok()) return cf.status();
  std::unique_ptr<ScoringModel> model;
  if (p.model && !opts.no_score) {
    auto m = ScoringModel::Load(p);
    if (!m.ok()) return m.status();
    model = std::move(*m);
  }
  Backfill b(p, opts, **cf, model.get());
  SLUICE_RETURN_IF_ERROR(b.Open());
  return b.Run();
}

}  // namespace sluice::engine
