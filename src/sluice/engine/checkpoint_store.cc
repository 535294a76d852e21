#include "sluice/engine/checkpoint_store.h"

#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "sluice/features/checkpoint.h"

namespace sluice::engine {

using core::Result;
using core::Status;

namespace {

constexpr char kCurrentKey[] = "current";
constexpr char kInfoMagic[4] = {'S', 'L', 'C', 'P'};
constexpr uint32_t kInfoVersion = 2;     // 2: generation and delta counts
constexpr size_t kBatchBytes = 8 << 20;  // bounds the memory a checkpoint holds outside the state
constexpr std::string_view kGenPrefix = "gen-";

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = "checkpoint store: " + std::string(what) + ": " + s.ToString();
  return s.IsCorruption() ? Status::Corruption(std::move(msg)) : Status::IoError(std::move(msg));
}

std::string GenName(uint64_t id) { return std::string(kGenPrefix) + std::to_string(id); }

bool ParseGenName(const std::string& name, uint64_t* id) {
  if (name.size() <= kGenPrefix.size() || name.compare(0, kGenPrefix.size(), kGenPrefix) != 0)
    return false;
  *id = 0;
  for (size_t i = kGenPrefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    *id = *id * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return true;
}

std::string EncodeInfo(const CheckpointInfo& info) {
  std::string out;
  features::StateWriter w(&out);
  w.Raw(kInfoMagic, 4);
  w.U32(kInfoVersion);
  w.U64(info.id);
  w.U64(info.generation);
  w.I64(info.base_records);
  w.I64(info.delta_records);
  w.Bytes(info.state_header);
  w.U32(static_cast<uint32_t>(info.positions.size()));
  for (const SourcePosition& p : info.positions) {
    w.Bytes(p.source);
    w.U32(static_cast<uint32_t>(p.partition));
    w.I64(p.offset);
    w.I64(p.records);
    w.I64(p.line);
  }
  w.Flush();
  return out;
}

Result<CheckpointInfo> DecodeInfo(std::string_view bytes) {
  features::StateReader r(bytes);
  char magic[4];
  r.Raw(magic, 4);
  if (r.failed() || std::memcmp(magic, kInfoMagic, 4) != 0)
    return Status::Corruption("checkpoint store: unreadable `current` record");
  if (const uint32_t v = r.U32(); v != kInfoVersion) {
    return Status::InvalidArgument("checkpoint store format version " + std::to_string(v) +
                                   ", this build reads " + std::to_string(kInfoVersion) +
                                   ": run the build that wrote it, or start with an empty state "
                                   "directory");
  }
  CheckpointInfo info;
  info.id = r.U64();
  info.generation = r.U64();
  info.base_records = r.I64();
  info.delta_records = r.I64();
  info.state_header = std::string(r.Bytes());
  const uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    SourcePosition p;
    p.source = std::string(r.Bytes());
    p.partition = static_cast<int32_t>(r.U32());
    p.offset = r.I64();
    p.records = r.I64();
    p.line = r.I64();
    info.positions.push_back(std::move(p));
  }
  if (!r.done()) return Status::Corruption("checkpoint store: malformed `current` record");
  return info;
}

// A generation is written once, read at most once and then dropped whole: compacting it would
// only rewrite bytes, so it is never compacted, and large memtables keep its L0 files few.
rocksdb::ColumnFamilyOptions GenerationOptions() {
  rocksdb::ColumnFamilyOptions o;
  o.disable_auto_compactions = true;
  o.write_buffer_size = 128 << 20;
  o.max_write_buffer_number = 3;
  o.level0_slowdown_writes_trigger = 1 << 20;
  o.level0_stop_writes_trigger = 1 << 20;
  o.compression = rocksdb::kLZ4Compression;
  // Records arrive in hash-map order: a vector memtable appends them and sorts once at flush,
  // where the default skip list pays a random insert per record.
  o.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  return o;
}

}  // namespace

struct CheckpointStore::Handles {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* default_cf = nullptr;
  std::map<uint64_t, rocksdb::ColumnFamilyHandle*> generations;
  // The last writer's batch, cleared, for the next one: a delta's batch is tens of MB, and fresh
  // memory costs a page fault per 4 KiB (10-20 µs each on small VMs). `spare_room`: its capacity
  // (at least). One writer at a time uses it.
  rocksdb::WriteBatch spare;
  size_t spare_room = 0;
};

struct CheckpointWriter::Batch {
  rocksdb::WriteBatch wb;
  size_t room = 0;  // the capacity reserved (at least)
};

CheckpointStore::CheckpointStore() : h_(std::make_unique<Handles>()) {}

CheckpointStore::~CheckpointStore() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    worker_.join();  // after the last job: a submitted checkpoint is finished, not cut short
  }
  if (!h_->db) return;
  for (auto& [id, cf] : h_->generations)
    h_->db->DestroyColumnFamilyHandle(cf).PermitUncheckedError();
  if (h_->default_cf) h_->db->DestroyColumnFamilyHandle(h_->default_cf).PermitUncheckedError();
  h_->db->Close().PermitUncheckedError();
}

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::Open(const std::string& dir) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.allow_concurrent_memtable_write = false;  // the vector memtable does not support it
  // Deltas are in the synced WAL: closing need not flush them (the next Open replays them).
  opts.avoid_flush_during_shutdown = true;
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(opts, dir, &names).ok())
    names = {rocksdb::kDefaultColumnFamilyName};  // a new store
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) {
    uint64_t id;
    descs.emplace_back(
        n, ParseGenName(n, &id) ? GenerationOptions() : rocksdb::ColumnFamilyOptions(opts));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  std::unique_ptr<CheckpointStore> store(new CheckpointStore());
  store->dir_ = dir;
  SLUICE_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::Open(opts, dir, descs, &handles, &db), "open " + dir));
  store->h_->db.reset(db);
  for (size_t i = 0; i < names.size(); ++i) {
    uint64_t id = 0;
    if (ParseGenName(names[i], &id)) {
      store->h_->generations[id] = handles[i];
    } else if (names[i] == rocksdb::kDefaultColumnFamilyName) {
      store->h_->default_cf = handles[i];
    } else {
      db->DestroyColumnFamilyHandle(handles[i]).PermitUncheckedError();  // not ours: left alone
    }
  }
  std::string current;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), store->h_->default_cf, kCurrentKey, &current);
  if (s.ok()) {
    auto info = DecodeInfo(current);
    if (!info.ok()) return info.status();
    store->current_id_ = info->id;
    store->current_ = std::move(*info);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read current");
  }
  SLUICE_RETURN_IF_ERROR(store->DropAllBut(store->current_.generation));
  return store;
}

Status CheckpointStore::DropAllBut(uint64_t keep) {
  for (auto it = h_->generations.begin(); it != h_->generations.end();) {
    if (it->first == keep) {
      ++it;
      continue;
    }
    SLUICE_RETURN_IF_ERROR(FromRocks(h_->db->DropColumnFamily(it->second), "drop generation"));
    h_->db->DestroyColumnFamilyHandle(it->second).PermitUncheckedError();
    it = h_->generations.erase(it);
  }
  return Status::Ok();
}

void CheckpointStore::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return job_ || quit_; });
    if (!job_) return;  // quit, nothing pending
    auto job = std::move(job_);
    job_ = nullptr;
    lock.unlock();
    core::Status s = job();
    lock.lock();
    job_status_ = std::move(s);
    busy_ = false;
    cv_.notify_all();
  }
}

Status CheckpointStore::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !busy_; });
  return job_status_;
}

bool CheckpointStore::Busy() {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_;
}

Status CheckpointStore::Submit(std::function<Status()> job) {
  SLUICE_RETURN_IF_ERROR(Wait());
  if (!worker_.joinable()) worker_ = std::thread([this] { WorkerLoop(); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = std::move(job);
    busy_ = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

std::vector<uint64_t> CheckpointStore::Generations() const {
  std::vector<uint64_t> ids;
  for (const auto& [id, cf] : h_->generations) ids.push_back(id);
  return ids;
}

Result<std::unique_ptr<CheckpointWriter>> CheckpointStore::Begin(uint64_t id) {
  if (id <= current_id_) {
    return Status::InvalidArgument("checkpoint id " + std::to_string(id) +
                                   " is not newer than the current one (" +
                                   std::to_string(current_id_) + ")");
  }
  SLUICE_RETURN_IF_ERROR(DropAllBut(current_.generation));  // an abandoned generation
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  SLUICE_RETURN_IF_ERROR(FromRocks(
      h_->db->CreateColumnFamily(GenerationOptions(), GenName(id), &cf), "create generation"));
  h_->generations[id] = cf;
  return std::unique_ptr<CheckpointWriter>(new CheckpointWriter(this, id, cf, false));
}

Result<std::unique_ptr<CheckpointWriter>> CheckpointStore::BeginDelta(uint64_t id) {
  if (current_id_ == 0) return Status::InvalidArgument("no checkpoint to write a delta over");
  if (id <= current_id_) {
    return Status::InvalidArgument("checkpoint id " + std::to_string(id) +
                                   " is not newer than the current one (" +
                                   std::to_string(current_id_) + ")");
  }
  auto gen = h_->generations.find(current_.generation);
  if (gen == h_->generations.end())
    return Status::Corruption("checkpoint store: the current generation is missing");
  return std::unique_ptr<CheckpointWriter>(new CheckpointWriter(this, id, gen->second, true));
}

Status CheckpointStore::CommitDelta(uint64_t id, int64_t records, const CheckpointInfo& info,
                                    CheckpointWriter::Batch* batch) {
  CheckpointInfo named = info;
  named.id = id;
  named.generation = current_.generation;
  named.base_records = current_.base_records;
  named.delta_records = current_.delta_records + records;
  // The records and `current` in one batch: RocksDB applies it whole or not at all.
  SLUICE_RETURN_IF_ERROR(
      FromRocks(batch->wb.Put(h_->default_cf, kCurrentKey, EncodeInfo(named)), "batch"));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  SLUICE_RETURN_IF_ERROR(FromRocks(h_->db->Write(wo, &batch->wb), "write delta"));
  current_id_ = id;
  current_ = std::move(named);
  return Status::Ok();
}

Status CheckpointStore::Commit(uint64_t id, int64_t records, const CheckpointInfo& info,
                               rocksdb::ColumnFamilyHandle* cf) {
  // The generation's records were written without the WAL: flushing makes them durable before
  // `current` names them.
  rocksdb::FlushOptions fo;
  fo.wait = true;
  SLUICE_RETURN_IF_ERROR(FromRocks(h_->db->Flush(fo, cf), "flush generation"));
  CheckpointInfo named = info;
  named.id = id;
  named.generation = id;
  named.base_records = records;
  named.delta_records = 0;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  SLUICE_RETURN_IF_ERROR(
      FromRocks(h_->db->Put(wo, h_->default_cf, kCurrentKey, EncodeInfo(named)), "write current"));
  current_id_ = id;
  current_ = std::move(named);
  return DropAllBut(id);
}

Result<std::unique_ptr<CheckpointReader>> CheckpointStore::ReadLatest() {
  if (current_id_ == 0) return Status::NotFound("no checkpoint in " + dir_);
  std::string current;
  SLUICE_RETURN_IF_ERROR(FromRocks(
      h_->db->Get(rocksdb::ReadOptions(), h_->default_cf, kCurrentKey, &current), "read current"));
  auto info = DecodeInfo(current);
  if (!info.ok()) return info.status();
  auto gen = h_->generations.find(info->generation);
  if (gen == h_->generations.end())
    return Status::Corruption("checkpoint store: generation " + std::to_string(info->generation) +
                              " named current is missing");
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // read once, front to back
  ro.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro, gen->second));
  return std::unique_ptr<CheckpointReader>(new CheckpointReader(std::move(*info), std::move(it)));
}

CheckpointWriter::CheckpointWriter(CheckpointStore* store, uint64_t id,
                                   rocksdb::ColumnFamilyHandle* cf, bool delta)
    : store_(store), id_(id), cf_(cf), delta_(delta), batch_(std::make_unique<Batch>()) {
  batch_->wb = std::move(store_->h_->spare);
  batch_->wb.Clear();  // valid even when moved from (a writer before this one is alive)
  batch_->room = std::exchange(store_->h_->spare_room, 0);
}

CheckpointWriter::~CheckpointWriter() {
  constexpr size_t kKeepBytes = 256 << 20;
  const size_t room = std::max(batch_->room, batch_->wb.GetDataSize());
  if (room > kKeepBytes) return;
  batch_->wb.Clear();
  store_->h_->spare = std::move(batch_->wb);
  store_->h_->spare_room = room;
}

void CheckpointWriter::Reserve(size_t bytes) {
  if (batch_->wb.Count() == 0 && bytes > batch_->room) {
    batch_->room = bytes + bytes / 4;  // deltas grow with the state
    batch_->wb = rocksdb::WriteBatch(batch_->room);
  }
}

Status CheckpointWriter::Put(std::string_view key, std::string_view value) {
  if (committed_) return Status::Internal("checkpoint record after commit");
  SLUICE_RETURN_IF_ERROR(FromRocks(batch_->wb.Put(cf_, key, value), "batch"));
  ++records_;
  return !delta_ && batch_->wb.GetDataSize() >= kBatchBytes ? WriteBatch() : Status::Ok();
}

Status CheckpointWriter::Delete(std::string_view key) {
  if (committed_) return Status::Internal("checkpoint record after commit");
  if (!delta_) return Status::Internal("a delete in a full checkpoint");
  SLUICE_RETURN_IF_ERROR(FromRocks(batch_->wb.Delete(cf_, key), "batch"));
  ++records_;
  return Status::Ok();
}

Status CheckpointWriter::WriteBatch() {
  if (batch_->wb.Count() == 0) return Status::Ok();
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // Commit flushes the generation instead: the data is written once
  SLUICE_RETURN_IF_ERROR(FromRocks(store_->h_->db->Write(wo, &batch_->wb), "write records"));
  batch_->wb.Clear();
  return Status::Ok();
}

Status CheckpointWriter::Commit(CheckpointInfo info) {
  if (committed_) return Status::Internal("checkpoint committed twice");
  if (delta_) {
    SLUICE_RETURN_IF_ERROR(
        store_->CommitDelta(id_, keys_ >= 0 ? keys_ : records_, info, batch_.get()));
    committed_ = true;
    return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(WriteBatch());
  SLUICE_RETURN_IF_ERROR(store_->Commit(id_, records_, info, cf_));
  committed_ = true;
  return Status::Ok();
}

CheckpointReader::CheckpointReader(CheckpointInfo info, std::unique_ptr<rocksdb::Iterator> it)
    : info_(std::move(info)), it_(std::move(it)) {}

CheckpointReader::~CheckpointReader() = default;

Status CheckpointReader::ForEach(
    const std::function<Status(std::string_view key, std::string_view value)>& fn) {
  for (it_->SeekToFirst(); it_->Valid(); it_->Next()) {
    const rocksdb::Slice k = it_->key(), v = it_->value();
    SLUICE_RETURN_IF_ERROR(
        fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size())));
  }
  return FromRocks(it_->status(), "read records");
}

namespace {

// The debt (keys written by the deltas since the last full checkpoint, each read and then
// overridden at restore) is weighed against the live keys (admission's and the shards').
bool ChooseDelta(const CheckpointStore& store, CheckpointMode mode,
                 const features::Admission& admission,
                 const std::vector<features::Shard*>& shards) {
  const int64_t changed = features::ChangedRecords(admission, shards);
  int64_t live = admission.keys();
  for (const features::Shard* s : shards) live += s->keys();
  // A state of few keys is cheap to rewrite: the floor keeps tiny states from rewriting
  // everything at every checkpoint.
  const double debt_limit = kMaxDeltaDebt * static_cast<double>(std::max<int64_t>(live, 1024));
  return store.current_id() != 0 &&
         (mode == CheckpointMode::kDelta ||
          (mode == CheckpointMode::kAuto &&
           static_cast<double>(store.delta_records() + changed) <= debt_limit));
}

}  // namespace

Status BufferedRecords::Put(std::string_view key, std::string_view value) {
  records_.push_back({true, std::string(key), std::string(value)});
  bytes_ += key.size() + value.size();
  return Status::Ok();
}

Status BufferedRecords::PutOwned(std::string_view key, std::string* value) {
  bytes_ += key.size() + value->size();
  records_.push_back({true, std::string(key), std::move(*value)});
  return Status::Ok();
}

Status BufferedRecords::Delete(std::string_view key) {
  records_.push_back({false, std::string(key), {}});
  bytes_ += key.size();
  return Status::Ok();
}

bool RecordBuffers::Give(std::string* buffer) {
  if (buffer->capacity() < features::KeyChunkWriter::kBufferBytes) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (bytes_ + buffer->capacity() > kKeepBytes) return false;
  }
  buffer->resize(buffer->capacity());  // here, not on the engine thread
  std::lock_guard<std::mutex> lock(mu_);
  bytes_ += buffer->capacity();
  free_.push_back(std::move(*buffer));
  return true;
}


bool RecordBuffers::Take(std::string* buffer) {
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.empty()) return false;
  bytes_ -= free_.back().capacity();
  buffer->swap(free_.back());
  free_.pop_back();
  return true;
}

void BufferedRecords::GiveBack() {
  if (buffers_) {
    for (Record& r : records_) buffers_->Give(&r.value);
  }
  records_.clear();
  bytes_ = 0;
}

Status BufferedRecords::WriteTo(features::StateSink* sink) const {
  for (const Record& r : records_)
    SLUICE_RETURN_IF_ERROR(r.put ? sink->Put(r.key, r.value) : sink->Delete(r.key));
  return Status::Ok();
}

namespace {

// Writes the records on the store's thread, then commits them as checkpoint `id`.
Status WriteRecords(CheckpointStore* store, uint64_t id, bool delta, int64_t changed,
                    std::vector<BufferedRecords>* records, CheckpointInfo* info) {
  auto writer = delta ? store->BeginDelta(id) : store->Begin(id);
  if (!writer.ok()) return writer.status();
  if (delta) {
    size_t bytes = 0;
    for (const BufferedRecords& r : *records) bytes += r.bytes() + r.count() * 16;  // + framing
    (*writer)->set_keys(changed);
    (*writer)->Reserve(bytes);
  }
  for (BufferedRecords& r : *records) {
    SLUICE_RETURN_IF_ERROR(r.WriteTo(writer->get()));
    r.GiveBack();  // its buffers, for the next checkpoint
  }
  return (*writer)->Commit(std::move(*info));
}

// The change sets (a delta) or every key (a full checkpoint) are taken here, and serialised on
// the store's thread while the engine goes on: Admission::TakeChanges, whose entries hold each
// key's newest time; Shard::TakeSnapshot / TakeFullSnapshot, the engine writing first any key it
// changes before that thread reached it, into the shard's side records. A full checkpoint's
// admission keys, and restored keys not decoded yet, are written here.
Status WriteBeside(CheckpointStore* store, uint64_t id, std::vector<SourcePosition> positions,
                   const features::CompiledFeatures& cf, features::Admission* admission,
                   const std::vector<features::Shard*>& shards, bool delta, int64_t changed) {
  // records: admission's, then per shard the snapshot's and the side's.
  auto records = std::make_shared<std::vector<BufferedRecords>>();
  records->reserve(1 + 2 * shards.size());
  for (size_t r = 0; r < 1 + 2 * shards.size(); ++r) records->emplace_back(store->buffers());
  const features::Admission::Changes* admitted = nullptr;
  if (delta) {
    admitted = &admission->TakeChanges();
    for (size_t s = 0; s < shards.size(); ++s)
      shards[s]->TakeSnapshot(admitted->delta_seq, &(*records)[2 + 2 * s]);
  } else {
    SLUICE_RETURN_IF_ERROR(admission->SaveKeys(&(*records)[0]));
    // Before any shard's states are shared: a malformed restored entry ends it here.
    for (size_t s = 0; s < shards.size(); ++s)
      SLUICE_RETURN_IF_ERROR(shards[s]->SavePending(&(*records)[2 + 2 * s]));
    for (size_t s = 0; s < shards.size(); ++s) shards[s]->TakeFullSnapshot(&(*records)[2 + 2 * s]);
  }
  auto info = std::make_shared<CheckpointInfo>();
  info->id = id;
  info->positions = std::move(positions);
  info->state_header = features::SaveHeader(cf, *admission);
  return store->Submit([store, id, delta, changed, admitted, shards, records, info]() -> Status {
    Status status;
    if (admitted) status = features::Admission::WriteChanges(*admitted, &(*records)[0]);
    for (size_t s = 0; s < shards.size(); ++s) {  // each, even after an error: it frees its keys
      Status e = shards[s]->SaveSnapshot(&(*records)[1 + 2 * s]);
      if (status.ok()) status = std::move(e);
    }
    SLUICE_RETURN_IF_ERROR(status);
    return WriteRecords(store, id, delta, changed, records.get(), info.get());
  });
}

}  // namespace

Status WriteCheckpointAsync(CheckpointStore* store, uint64_t id,
                            std::vector<SourcePosition> positions,
                            const features::CompiledFeatures& cf, features::Admission* admission,
                            const std::vector<features::Shard*>& shards, CheckpointMode mode) {
  SLUICE_RETURN_IF_ERROR(store->Wait());  // the previous one is durable (or failed)
  const bool delta = ChooseDelta(*store, mode, *admission, shards);
  const int64_t changed = features::ChangedRecords(*admission, shards);  // the save zeroes it
  return WriteBeside(store, id, std::move(positions), cf, admission, shards, delta, changed);
}

Status WriteCheckpoint(CheckpointStore* store, uint64_t id, std::vector<SourcePosition> positions,
                       const features::CompiledFeatures& cf, features::Admission* admission,
                       const std::vector<features::Shard*>& shards, CheckpointMode mode) {
  const bool delta = ChooseDelta(*store, mode, *admission, shards);
  auto writer = delta ? store->BeginDelta(id) : store->Begin(id);
  if (!writer.ok()) return writer.status();
  if (delta) (*writer)->set_keys(features::ChangedRecords(*admission, shards));
  SLUICE_RETURN_IF_ERROR(delta ? features::SaveChanges(admission, shards, writer->get())
                               : features::SaveState(admission, shards, writer->get()));
  CheckpointInfo info;
  info.id = id;
  info.positions = std::move(positions);
  info.state_header = features::SaveHeader(cf, *admission);
  return (*writer)->Commit(std::move(info));
}

// Records are restored in the store's order, on the calling thread, whatever the shard count:
// restore is lazy (features/pending_states.h), so each key costs a copy of its entry and a table
// slot, and a thread per shard would only add copies of the chunks it hands them
// (docs/benchmarks.md, "Checkpoints").
Result<CheckpointInfo> RestoreLatest(CheckpointStore* store, const features::CompiledFeatures& cf,
                                     features::Admission* admission,
                                     const std::vector<features::Shard*>& shards) {
  auto reader = store->ReadLatest();
  if (!reader.ok()) return reader.status();
  // Most of a restore's time on small VMs is the kernel zeroing the fresh pages the entries are
  // copied into: another thread faults them in ahead.
  features::PrefaultedHugePages pages;
  features::StateRestorer restorer(cf, admission, shards);
  restorer.UsePages(&pages);
  SLUICE_RETURN_IF_ERROR(restorer.Header((*reader)->info().state_header));
  SLUICE_RETURN_IF_ERROR((*reader)->ForEach(
      [&](std::string_view k, std::string_view v) { return restorer.Record(k, v); }));
  return (*reader)->info();
}

}  // namespace sluice::engine
