#include "sluice/engine/backfill.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "sluice/core/number_format.h"
#include "sluice/engine/label_join.h"
#include "sluice/engine/processor.h"
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

class Backfill {
 public:
  // `model` may be null (no scores); it must outlive the Backfill.
  Backfill(const spec::Pipeline& p, const BackfillOptions& o, const features::CompiledFeatures& cf,
           const ScoringModel* model)
      : p_(p), o_(o), model_(model), pool_(o.threads), processor_(p, cf, model, &pool_) {}

  Status Open();
  Result<BackfillStats> Run();

 private:
  Status ProcessChunk();
  Status DeadLetter(size_t i, Reason r, std::string_view detail);
  Status MatchLabel(int64_t time_us, const core::Value* fields);
  void Format(int task, size_t lo, size_t hi);
  Status WriteLabelled();

  const spec::Pipeline& p_;
  const BackfillOptions& o_;
  const ScoringModel* model_;
  ThreadPool pool_;
  Processor processor_;
  std::unique_ptr<io::RecordReader> reader_;
  std::unique_ptr<io::FileWriter> out_;
  std::unique_ptr<io::DeadLetterSink> dead_;
  std::unique_ptr<LabelJoin> labels_;
  std::string input_, out_path_, source_name_;
  io::Chunk chunk_;
  BackfillStats stats_;
  std::vector<std::string> parts_;                  // formatted CSV, one per format task
  std::vector<std::vector<uint32_t>> row_lengths_;  // per format task (labels only)
  std::vector<double> chunk_labels_;                // per applied row of the chunk (labels only)
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
  return Status::Ok();
}

Status Backfill::DeadLetter(size_t i, Reason r, std::string_view detail) {
  const io::Record& rec = chunk_.records[i];
  io::DeadLetter d;
  d.reason = r;
  d.detail = detail;
  d.source = source_name_;
  d.position = rec.line;
  d.record = chunk_.Text(rec);
  d.truncated = rec.truncated;
  ++stats_.dead_letters;
  ++stats_.by_reason[static_cast<int>(r)];
  return dead_->Write(d);
}

// In log order, as the event is admitted: a label is matched to the first applied event with its id.
Status Backfill::MatchLabel(int64_t time_us, const core::Value* fields) {
  labels_->NoteEventTime(time_us);
  double label = std::nan("");
  if (p_.event_id_index >= 0) {
    auto m = labels_->Match(fields[p_.event_id_index], time_us, dead_.get());
    if (!m.ok()) return m.status();
    label = *m;
  }
  chunk_labels_.push_back(label);
  return Status::Ok();
}

void Backfill::Format(int task, size_t lo, size_t hi) {
  std::string& out = parts_[task];
  out.clear();
  row_lengths_[task].clear();
  const size_t nfeat = p_.features.size(), ns = processor_.num_scores();
  for (size_t r = lo; r < hi; ++r) {
    const size_t before = out.size();
    AppendRow(p_, processor_.fields(r), core::EventTime::FromMicros(processor_.time_us(r)),
              processor_.features(r), nfeat, processor_.scores(r), ns, &out);
    if (labels_) row_lengths_[task].push_back(static_cast<uint32_t>(out.size() - before));
  }
}

Status Backfill::ProcessChunk() {
  chunk_labels_.clear();
  Processor::Hooks hooks;
  hooks.dead_letter = [this](size_t i, Reason r, std::string_view d) { return DeadLetter(i, r, d); };
  if (labels_) {
    hooks.applied = [this](size_t, int64_t t, const core::Value* f) { return MatchLabel(t, f); };
  }
  SLUICE_RETURN_IF_ERROR(processor_.Process(chunk_, source_name_, hooks));
  parts_.resize(pool_.size());
  row_lengths_.resize(pool_.size());
  processor_.ForEachRange([this](int task, size_t lo, size_t hi) { Format(task, lo, hi); });
  for (int t = 0; t < pool_.size(); ++t) {
    SLUICE_RETURN_IF_ERROR(out_->Append(parts_[t]));
    if (labels_)
      all_row_lengths_.insert(all_row_lengths_.end(), row_lengths_[t].begin(),
                              row_lengths_[t].end());
  }
  if (labels_) {
    all_labels_.insert(all_labels_.end(), chunk_labels_.begin(), chunk_labels_.end());
    for (size_t r = 0; r < processor_.rows(); ++r) all_times_.push_back(processor_.time_us(r));
  }
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
    auto more = reader_->Next(&chunk_, o_.chunk_bytes);
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
  stats_.keys = processor_.keys();
  stats_.records = processor_.records();
  stats_.applied = stats_.records - stats_.dead_letters;
  stats_.bytes = reader_->bytes_read();
  if (std::getenv("SLUICE_STAGE_TIMES")) {
    const double* st = processor_.stage_seconds();
    std::fprintf(stderr, "stages: decode %.3fs, admit %.3fs, shards %.3fs, finish %.3fs\n", st[0],
                 st[1], st[2], st[3]);
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
