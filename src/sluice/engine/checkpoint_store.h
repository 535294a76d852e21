#pragma once
// Durable checkpoints in RocksDB (docs/checkpoints.md): per checkpoint, the source positions, the
// features' state header and every state record (features/checkpoint.h).
//
// A full checkpoint is a *generation*: its own column family, filled in bounded write batches,
// flushed, and then made current by one synced write of the `current` key (id, positions, header)
// to the default column family. A crash at any point leaves the previous complete checkpoint
// current; a half-written generation is dropped on the next Open. Generations rather than one
// WriteBatch because a state of millions of keys would otherwise be held in memory twice (state
// + batch), and because dropping a column family frees an old generation at once, where deleting
// its keys would leave tombstones to compact.
//
// An incremental checkpoint (a *delta*: the records changed since the last checkpoint, and
// deletes) is applied to the current generation in ONE write batch together with the new
// `current` record, through the WAL, synced: RocksDB applies a batch across column families
// atomically, so after a crash the generation holds either the old checkpoint or the new one.
// Deltas pile up in the generation (records read and overridden at restore until the next full
// one); `current` counts them (delta_records, in state keys when the writer says so) so the
// caller can fall back to a full generation in time.
//
// Ownership: CheckpointStore owns the rocksdb::DB and its column family handles; writers and
// readers borrow it and must not outlive it. Not thread-safe: one thread checkpoints, and no
// reader may be open while a writer commits (the commit drops the generation a reader reads).
// The exception is Submit: it runs a job (which may use the store) on the store's own background
// thread; until Wait returns, the calling thread must not use the store otherwise.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/features/admission.h"
#include "sluice/features/shard.h"
#include "sluice/features/state_codec.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Iterator;
}  // namespace rocksdb

namespace sluice::engine {

// Where a source stood at the checkpoint: the first record not yet applied.
struct SourcePosition {
  std::string source;      // Kafka topic, or file path
  int32_t partition = -1;  // Kafka partition; -1 for a file
  int64_t offset = 0;      // Kafka: next offset; file: byte offset of the next record
  int64_t records = 0;     // records read before it (a file's next log sequence number)
  int64_t line = 0;        // file: the line the next record starts on (for dead letters)
  bool operator==(const SourcePosition&) const = default;
};

struct CheckpointInfo {
  uint64_t id = 0;  // increasing
  std::vector<SourcePosition> positions;
  std::string state_header;  // features::SaveHeader
  // Filled in by the store: the generation (full checkpoint) the deltas since apply to, the
  // records it was written with, and the records of the deltas applied over it since.
  uint64_t generation = 0;
  int64_t base_records = 0;
  int64_t delta_records = 0;
};

class CheckpointStore;

// Receives one checkpoint's records: a new generation's (Begin), or a delta's over the current
// one (BeginDelta); Commit makes it the current checkpoint. Destroyed without Commit, it is
// abandoned: a generation is dropped on the next Open, a delta was never written.
class CheckpointWriter : public features::StateSink {
 public:
  ~CheckpointWriter() override;
  core::Status Put(std::string_view key, std::string_view value) override;
  // Deltas only: a full generation starts empty.
  core::Status Delete(std::string_view key) override;
  // A generation: writes the rest, flushes it to disk, then switches `current` to it (synced)
  // and drops older generations. A delta: writes its records and `current` in one synced batch.
  // `info.id` is the id given to Begin.
  core::Status Commit(CheckpointInfo info);
  int64_t records() const { return records_; }
  bool delta() const { return delta_; }
  // The state keys the records carry, when a record holds many (chunks): what a delta adds to the
  // store's debt (delta_records). Unset, each record counts as one.
  void set_keys(int64_t keys) { keys_ = keys; }
  // Room for `bytes` of records in a delta's batch, before the first Put: a delta is one batch,
  // and growing it by doubling would copy it over and over.
  void Reserve(size_t bytes);

 private:
  friend class CheckpointStore;
  struct Batch;
  CheckpointWriter(CheckpointStore* store, uint64_t id, rocksdb::ColumnFamilyHandle* cf,
                   bool delta);
  core::Status WriteBatch();

  CheckpointStore* store_;
  uint64_t id_;
  rocksdb::ColumnFamilyHandle* cf_;  // owned by the store
  bool delta_;
  std::unique_ptr<Batch> batch_;
  int64_t records_ = 0;
  int64_t keys_ = -1;
  bool committed_ = false;
};

// The current checkpoint: its info, and its state records in key order.
class CheckpointReader {
 public:
  ~CheckpointReader();
  const CheckpointInfo& info() const { return info_; }
  // Calls fn for every record; stops at fn's first error.
  core::Status ForEach(
      const std::function<core::Status(std::string_view key, std::string_view value)>& fn);

 private:
  friend class CheckpointStore;
  CheckpointReader(CheckpointInfo info, std::unique_ptr<rocksdb::Iterator> it);
  CheckpointInfo info_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// Chunk buffers (features::KeyChunkWriter) for the engine thread to build a checkpoint's records
// in: a fresh page costs microseconds to fault in on a VM (docs/benchmarks.md), so the store's
// thread keeps the buffers of the checkpoints it wrote and zeroes them (they are handed out sized
// to their capacity); the engine thread then writes the next checkpoint into warm memory. At
// most kKeepBytes of capacity is kept. Thread-safe: the store's thread gives, the engine's takes.
class RecordBuffers {
 public:
  static constexpr size_t kKeepBytes = size_t{128} << 20;
  // A chunk buffer once written; false when it was dropped (smaller than a chunk's, or over the
  // limit).
  bool Give(std::string* buffer);
  bool Take(std::string* buffer);

 private:
  std::mutex mu_;
  std::vector<std::string> free_;  // guarded by mu_
  size_t bytes_ = 0;               // their capacity; guarded by mu_
};

class CheckpointStore {
 public:
  // Opens or creates the store in `dir`, dropping generations that are not current.
  static core::Result<std::unique_ptr<CheckpointStore>> Open(const std::string& dir);
  ~CheckpointStore();
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  // A new generation; `id` must be greater than the current checkpoint's.
  core::Result<std::unique_ptr<CheckpointWriter>> Begin(uint64_t id);
  // A delta over the current checkpoint (InvalidArgument when there is none). Its records
  // are held in memory until Commit: the caller bounds them (see WriteCheckpoint).
  core::Result<std::unique_ptr<CheckpointWriter>> BeginDelta(uint64_t id);
  // NotFound when no checkpoint was ever committed.
  core::Result<std::unique_ptr<CheckpointReader>> ReadLatest();
  // The current checkpoint's id, 0 when none; its generation, and that generation's records
  // (base) and the records of the deltas over it (debt: read, then discarded, at restore).
  uint64_t current_id() const { return current_id_; }
  uint64_t current_generation() const { return current_.generation; }
  int64_t base_records() const { return current_.base_records; }
  int64_t delta_records() const { return current_.delta_records; }
  // Generations present on disk, the current one included (tests look at cleanup with it).
  std::vector<uint64_t> Generations() const;

  // Runs `job` on the store's background thread, after waiting for the previous one (whose
  // error, if any, is returned instead of starting this one). Wait: until the last job is done;
  // its status. The destructor waits too.
  core::Status Submit(std::function<core::Status()> job);
  core::Status Wait();
  // Whether a job is still running (Submit would wait for it).
  bool Busy();
  // Buffers for the records of the next checkpoints (BufferedRecords).
  RecordBuffers* buffers() { return &buffers_; }

 private:
  friend class CheckpointWriter;
  struct Handles;
  CheckpointStore();
  core::Status Commit(uint64_t id, int64_t records, const CheckpointInfo& info,
                      rocksdb::ColumnFamilyHandle* cf);
  core::Status CommitDelta(uint64_t id, int64_t records, const CheckpointInfo& info,
                           CheckpointWriter::Batch* batch);
  core::Status DropAllBut(uint64_t keep);

  std::string dir_;
  std::unique_ptr<Handles> h_;
  uint64_t current_id_ = 0;
  CheckpointInfo current_;  // its generation and record counts
  // The background job (Submit): one at a time.
  void WorkerLoop();
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<core::Status()> job_;  // guarded by mu_
  bool busy_ = false, quit_ = false;   // guarded by mu_
  core::Status job_status_;            // guarded by mu_
  RecordBuffers buffers_;
};

// A checkpoint's records serialised in memory (puts and deletes, in order), to be written to
// the store later, on another thread. Each record is kept as its own strings: state records are
// chunks of up to ~1 MiB (features::KeyChunkWriter), so there are few of them, and one buffer
// grown by doubling would copy the whole checkpoint again at every doubling (a fifth of a
// checkpointing engine's time went to that) and fault in fresh pages as it grew.
// Not thread-safe; handed over whole.
class BufferedRecords : public features::StateSink {
 public:
  // Value buffers come from, and go back to, `buffers` when given.
  explicit BufferedRecords(RecordBuffers* buffers = nullptr) : buffers_(buffers) {}
  core::Status Put(std::string_view key, std::string_view value) override;
  core::Status PutOwned(std::string_view key, std::string* value) override;
  core::Status Delete(std::string_view key) override;
  void TakeBuffer(std::string* buffer) override {
    if (buffers_) buffers_->Take(buffer);
  }
  // Replays every record into `sink`.
  core::Status WriteTo(features::StateSink* sink) const;
  // Once written: the values' buffers go back to the buffers given (the records are gone).
  void GiveBack();
  size_t bytes() const { return bytes_; }
  size_t count() const { return records_.size(); }

 private:
  struct Record {
    bool put;
    std::string key, value;
  };
  RecordBuffers* buffers_;
  std::vector<Record> records_;
  size_t bytes_ = 0;
};

// How WriteCheckpoint writes: kFull always a new generation; kAuto a delta when the store's
// current checkpoint is this very engine's last save or restore (the caller knows that, the
// store does not), unless the delta debt (records of the deltas since the last full one, this
// one's included) would pass kMaxDeltaDebt × the live keys (admission's and the shards');
// kDelta a delta whenever there is a current checkpoint (tests).
enum class CheckpointMode { kFull, kAuto, kDelta };
inline constexpr double kMaxDeltaDebt = 2.0;

// The state of an engine as checkpoint `id`, with its source positions: all of it (a new
// generation), or with kAuto the changes since its last save or restore when that is cheaper.
// Either way the engine's change sets start afresh; on an error, the next one must be kFull.
core::Status WriteCheckpoint(CheckpointStore* store, uint64_t id,
                             std::vector<SourcePosition> positions,
                             const features::CompiledFeatures& cf, features::Admission* admission,
                             const std::vector<features::Shard*>& shards,
                             CheckpointMode mode = CheckpointMode::kFull);

// As WriteCheckpoint, but the records are serialised and written by the store's background
// thread (CheckpointStore::Submit) while the engine goes on, as Flink's asynchronous snapshots:
// the calling thread only takes the change sets (a delta) or lists every key (a full
// checkpoint; admission's keys and restored keys not decoded yet are written here), and the
// shards' states are shared with that thread until it has written them (Shard::TakeSnapshot:
// the shard's thread writes a listed state itself before changing it). It first waits for the
// previous checkpoint (a checkpoint never starts before the one before it is durable).
// The shards must not be destroyed, nor saved or restored otherwise, before store->Wait()
// returns; call it for the checkpoint to be durable (at shutdown).
core::Status WriteCheckpointAsync(CheckpointStore* store, uint64_t id,
                                  std::vector<SourcePosition> positions,
                                  const features::CompiledFeatures& cf,
                                  features::Admission* admission,
                                  const std::vector<features::Shard*>& shards,
                                  CheckpointMode mode = CheckpointMode::kFull);

// Restores the current checkpoint into a fresh admission and shards (any count) and returns its
// info (positions to resume from). NotFound when there is none; InvalidArgument when it was taken
// with another feature spec.
core::Result<CheckpointInfo> RestoreLatest(CheckpointStore* store,
                                           const features::CompiledFeatures& cf,
                                           features::Admission* admission,
                                           const std::vector<features::Shard*>& shards);

}  // namespace sluice::engine
