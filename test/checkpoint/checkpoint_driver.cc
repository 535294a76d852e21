// The exactly-once property of checkpoints, end to end: for random split points k, apply records
// 0..k, write a checkpoint to RocksDB, destroy the engine and the store, reopen, restore into a
// fresh engine with another shard count and apply records k..n. Every output row (CSV text and
// feature bits) and every dead-letter verdict for k..n must equal an uninterrupted run's.
//   checkpoint_driver SPEC EVENTS WORKDIR --seed S --splits N --shards-before A --shards-after B
// Exit 0: identical; 1: a difference (printed); 2: usage or setup error.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sluice/engine/checkpoint_store.h"
#include "sluice/engine/row_format.h"
#include "sluice/features/admission.h"
#include "sluice/features/compiled.h"
#include "sluice/features/shard.h"
#include "sluice/io/decoder.h"
#include "sluice/io/record_reader.h"
#include "sluice/spec/pipeline.h"

namespace {

using namespace sluice;

struct Output {
  std::string text;           // CSV row, or "dead letter: reason"
  std::vector<double> feats;  // empty for a dead letter
};

// Admission, shards and expressions driven one record at a time, as backfill drives them.
class Engine {
 public:
  Engine(const spec::Pipeline& p, const features::CompiledFeatures& cf, int shards)
      : p_(p), cf_(cf), admission_(cf), decoder_(io::MakeDecoder(p)) {
    for (int i = 0; i < shards; ++i)
      shards_.push_back(std::make_unique<features::Shard>(cf, i, shards));
    out_.resize(shards);
  }
  core::Status SetHeader(std::string_view h) { return decoder_->SetHeader(h); }
  Output Apply(std::string_view record, int64_t seq);
  std::vector<const features::Shard*> shards() const {
    std::vector<const features::Shard*> v;
    for (const auto& s : shards_) v.push_back(s.get());
    return v;
  }
  std::vector<features::Shard*> mutable_shards() {
    std::vector<features::Shard*> v;
    for (auto& s : shards_) v.push_back(s.get());
    return v;
  }
  features::Admission* admission() { return &admission_; }
  int64_t keys() const {
    int64_t n = 0;
    for (const auto& s : shards_) n += s->keys();
    return n;
  }

 private:
  void Features(const features::Shard::Row& row, std::vector<double>* feats);

  const spec::Pipeline& p_;
  const features::CompiledFeatures& cf_;
  features::Admission admission_;
  std::unique_ptr<io::Decoder> decoder_;
  std::vector<std::unique_ptr<features::Shard>> shards_;
  std::vector<std::vector<double>> out_;
  io::StringArena arena_;
  int64_t last_sweep_ = 0;
};

Output Engine::Apply(std::string_view record, int64_t seq) {
  const size_t nk = cf_.key_spaces.size();
  std::vector<core::Value> values(p_.schema.size());
  arena_.Reset();
  io::DecodeError err;
  core::EventTime t;
  if (!decoder_->Decode(record, values.data(), &t, &arena_, &err))
    return {"dead letter: " + err.detail, {}};
  std::vector<features::KeyRef> keys(nk);
  std::vector<uint8_t> flags(nk);
  for (size_t k = 0; k < nk; ++k)
    keys[k] = features::EncodeKey(cf_.key_spaces[k], values.data(), &arena_);
  std::string detail;
  if (admission_.Admit(t.micros(), keys.data(), flags.data(), &detail) != core::Reason::kNone)
    return {"dead letter: " + detail, {}};
  Output o;
  Features({t.micros(), seq, values.data(), keys.data(), flags.data()}, &o.feats);
  std::vector<double> stack(cf_.expressions.max_depth() + 1);
  const double per_unit = static_cast<double>(core::MicrosPerUnit(p_.time_unit));
  cf_.expressions.Evaluate(o.feats.data(), values.data(),
                           static_cast<double>(t.micros()) / per_unit, stack.data());
  engine::AppendRow(p_, values.data(), t, o.feats.data(), o.feats.size(), nullptr, 0, &o.text);
  return o;
}

void Engine::Features(const features::Shard::Row& row, std::vector<double>* feats) {
  feats->assign(cf_.num_features, 0.0);
  for (size_t s = 0; s < shards_.size(); ++s) {
    out_[s].assign(cf_.num_features, -1);
    shards_[s]->Apply(row, out_[s].data());
  }
  for (int f = 0; f < cf_.num_features; ++f) {
    const int ks = cf_.feature_key_space[f];
    if (ks < 0) continue;
    const features::KeyRef& key = row.keys[ks];
    const int owner = key.null ? 0 : features::OwnerShard(key.hash, static_cast<int>(out_.size()));
    (*feats)[f] = out_[owner][f];
  }
  // Sweeps as backfill does, so evicted keys are part of what is checkpointed.
  if (admission_.stream_time() - last_sweep_ >= cf_.ttl_us / 2) {
    last_sweep_ = admission_.stream_time();
    for (auto& s : shards_) s->Sweep(admission_.stream_time());
  }
}

struct Options {
  std::string spec, events, workdir;
  uint32_t seed = 1;
  int splits = 5, shards_before = 1, shards_after = 3;
  bool deltas = false;  // each checkpoint = a full one and two incremental ones over it
};

int Fail(const std::string& msg, int code) {
  std::fprintf(stderr, "checkpoint_driver: %s\n", msg.c_str());
  return code;
}

// Records of the events file (each with readable padding after it, as decoders need).
core::Result<std::vector<std::string>> ReadRecords(const spec::Pipeline& p,
                                                   const std::string& path) {
  const auto framing = p.source.format == spec::Format::kCsv ? io::RecordReader::Framing::kCsv
                                                             : io::RecordReader::Framing::kLines;
  auto reader = io::RecordReader::Open(path, framing, p.source.max_record_bytes);
  if (!reader.ok()) return reader.status();
  std::vector<std::string> records;
  io::Chunk chunk;
  for (bool more = true; more;) {
    auto m = (*reader)->Next(&chunk, 1 << 20);
    if (!m.ok()) return m.status();
    more = *m;
    for (const io::Record& r : chunk.records) {
      std::string s(chunk.Text(r));
      s.reserve(s.size() + io::RecordReader::kPadding);
      records.push_back(std::move(s));
    }
  }
  return records;
}

std::string Describe(const Output& want, const Output& got) {
  return "\n  want: " + want.text + "  got:  " + got.text;
}

}  // namespace

namespace {

class Driver {
 public:
  Driver(const Options& o, const spec::Pipeline& p, const features::CompiledFeatures& cf,
         std::vector<std::string> records)
      : o_(o), p_(p), cf_(cf), records_(std::move(records)) {}
  int Run();

 private:
  core::Status Start(Engine* e, size_t* first);
  core::Status Checkpoint(Engine* e, size_t k, uint64_t id, engine::CheckpointMode mode);
  core::Result<size_t> Restore(Engine* e);
  int CheckSplit(size_t k, size_t mid, uint64_t* id);

  const Options& o_;
  const spec::Pipeline& p_;
  const features::CompiledFeatures& cf_;
  std::vector<std::string> records_;
  std::vector<Output> want_;
  std::string store_dir_;
};

// CSV reads its header record first; it is no event, so a checkpoint never splits it off.
core::Status Driver::Start(Engine* e, size_t* first) {
  *first = 0;
  if (io::MakeDecoder(p_)->NeedsHeader() && !records_.empty()) {
    *first = 1;
    return e->SetHeader(records_[0]);
  }
  return core::Status::Ok();
}

core::Status Driver::Checkpoint(Engine* e, size_t k, uint64_t id, engine::CheckpointMode mode) {
  auto store = engine::CheckpointStore::Open(store_dir_);
  if (!store.ok()) return store.status();
  const engine::SourcePosition pos{o_.events, -1, 0, static_cast<int64_t>(k)};
  return engine::WriteCheckpoint(store->get(), id, {pos}, cf_, e->admission(),
                                 e->mutable_shards(), mode);
}

// Into a fresh engine from a freshly opened store: returns the record to resume at.
core::Result<size_t> Driver::Restore(Engine* e) {
  auto store = engine::CheckpointStore::Open(store_dir_);
  if (!store.ok()) return store.status();
  auto info = engine::RestoreLatest(store->get(), cf_, e->admission(), e->mutable_shards());
  if (!info.ok()) return info.status();
  if (info->positions.size() != 1 || info->positions[0].source != o_.events)
    return core::Status::Internal("source positions did not round-trip");
  if ((*store)->Generations().size() != 1)
    return core::Status::Internal("old checkpoint generations were not dropped");
  return static_cast<size_t>(info->positions[0].records);
}

// The checkpoint at k is a full one at `mid` (≤ k) plus, with --deltas, deltas at two points
// after it, the last at k: the restore reads a generation with deltas (and their tombstones)
// applied over it.
int Driver::CheckSplit(size_t k, size_t mid, uint64_t* id) {
  int64_t keys_before = 0;
  {
    Engine a(p_, cf_, o_.shards_before);
    size_t i = 0;
    if (auto s = Start(&a, &i); !s.ok()) return Fail(s.message(), 2);
    const size_t quarter = mid + (k - mid) / 2;
    std::vector<std::pair<size_t, engine::CheckpointMode>> points = {
        {mid, engine::CheckpointMode::kFull},
        {quarter, engine::CheckpointMode::kDelta},
        {k, engine::CheckpointMode::kDelta}};
    if (!o_.deltas) points = {{k, engine::CheckpointMode::kFull}};
    for (const auto& [at, mode] : points) {
      for (; i < at; ++i) a.Apply(records_[i], static_cast<int64_t>(i));
      if (auto s = Checkpoint(&a, at, ++*id, mode); !s.ok()) return Fail(s.message(), 2);
    }
    keys_before = a.keys();
  }  // the engine and the store are gone: only the files remain
  Engine b(p_, cf_, o_.shards_after);
  size_t ignored;
  if (auto s = Start(&b, &ignored); !s.ok()) return Fail(s.message(), 2);
  auto resume = Restore(&b);
  if (!resume.ok()) return Fail(resume.status().message(), 2);
  if (*resume != k || b.keys() != keys_before)
    return Fail("split " + std::to_string(k) + ": resume point or key count differs", 1);
  for (size_t i = k; i < records_.size(); ++i) {
    const Output got = b.Apply(records_[i], static_cast<int64_t>(i));
    const Output& want = want_[i];
    const bool same_bits =
        got.feats.size() == want.feats.size() &&
        std::memcmp(got.feats.data(), want.feats.data(), got.feats.size() * sizeof(double)) == 0;
    if (got.text != want.text || !same_bits) {
      return Fail("split " + std::to_string(k) + ", record " + std::to_string(i) +
                      " differs from the uninterrupted run:" + Describe(want, got),
                  1);
    }
  }
  return 0;
}

int Driver::Run() {
  store_dir_ = o_.workdir + "/store";
  std::filesystem::remove_all(store_dir_);
  Engine ref(p_, cf_, o_.shards_before);
  size_t first;
  if (auto s = Start(&ref, &first); !s.ok()) return Fail(s.message(), 2);
  want_.resize(records_.size());
  for (size_t i = first; i < records_.size(); ++i) want_[i] = ref.Apply(records_[i], i);
  std::mt19937_64 rng(o_.seed);
  std::vector<size_t> splits = {first, records_.size()};
  for (int s = 0; s < o_.splits; ++s)
    splits.push_back(first + rng() % (records_.size() - first + 1));
  uint64_t id = 0;
  for (size_t k : splits) {
    const size_t mid = first + (k > first ? rng() % (k - first + 1) : 0);
    if (int rc = CheckSplit(k, mid, &id); rc != 0) return rc;
  }
  std::printf("checkpoint_driver: %zu splits of %zu records identical (%d -> %d shards%s)\n",
              splits.size(), records_.size() - first, o_.shards_before, o_.shards_after,
              o_.deltas ? ", full + 2 deltas each" : "");
  return 0;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--seed" && has_value)
      o->seed = static_cast<uint32_t>(std::atoi(argv[++i]));
    else if (a == "--splits" && has_value)
      o->splits = std::atoi(argv[++i]);
    else if (a == "--shards-before" && has_value)
      o->shards_before = std::atoi(argv[++i]);
    else if (a == "--shards-after" && has_value)
      o->shards_after = std::atoi(argv[++i]);
    else if (a == "--deltas")
      o->deltas = true;
    else
      pos.push_back(a);
  }
  if (pos.size() != 3 || o->shards_before < 1 || o->shards_after < 1) return false;
  o->spec = pos[0];
  o->events = pos[1];
  o->workdir = pos[2];
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o))
    return Fail(
        "usage: checkpoint_driver SPEC EVENTS WORKDIR [--seed S] [--splits N] "
        "[--shards-before A] [--shards-after B] [--deltas]",
        2);
  auto p = spec::LoadPipeline(o.spec);
  if (!p.ok()) return Fail(p.status().message(), 2);
  auto cf = features::Compile(*p);
  if (!cf.ok()) return Fail(cf.status().message(), 2);
  auto records = ReadRecords(*p, o.events);
  if (!records.ok()) return Fail(records.status().message(), 2);
  std::filesystem::create_directories(o.workdir);
  Driver d(o, *p, **cf, std::move(*records));
  return d.Run();
}
