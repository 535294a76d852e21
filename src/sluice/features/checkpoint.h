#pragma once
// Checkpoints of keyed feature state (docs/checkpoints.md): Admission and every Shard written as
// records (key bytes → value bytes) to a StateSink, and read back into a fresh Admission and
// shards of any count, after which every result is bit-identical to an uninterrupted run.
//   header : magic "SLST", format version, layout fingerprint, key space count, admission scalars
//   records: kAdmission and kAdmissionDelta chunks of (key, newest time) pairs (admission.cc);
//            kKeys and kKeysDelta chunks of (key, KeyState) entries (shard.cc), keyed as
//            state_codec.h's RecordKind lists: a delta's records sort after the records they
//            override.
// A full checkpoint (SaveState) writes every key; an incremental one (SaveChanges) only what
// changed since the last save (evicted keys as tombstones), in records of their own that restore
// applies over the previous checkpoint's. Neither deletes a record.
// A header from another format version or another feature layout (LayoutFingerprint) is refused.
// The store that holds header and records, and their atomicity, is engine::CheckpointStore.
// Not thread-safe; SaveState reads the shards, so they must be idle while it runs.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/features/admission.h"
#include "sluice/features/compiled.h"
#include "sluice/features/shard.h"
#include "sluice/features/state_codec.h"

namespace sluice::features {

// 2: varint counts and times, empty two-stacks and sets in a byte or two, per-key admission
// overrides. 3: key states in chunks of up to 4096 keys (KeyChunkWriter) instead of a record per
// key. 4: a delta's key states hold the stored events as a patch over the previous save's (the
// rows popped, the rows kept, the rows after them: EventStore::Save) instead of every event.
// 5: the header holds each key space's key count, so restore sizes the key tables once; a
// format 4 checkpoint is still read (without it).
// Checkpoints of other versions are refused (restore says so): start with a fresh state dir.
inline constexpr uint32_t kStateFormatVersion = 5;
inline constexpr uint32_t kOldestStateFormatRead = 4;

// A hash of everything the saved bytes depend on: key spaces, window groups (kind, sizes, value
// columns, partial layout, count_distinct columns), allowed_lateness and state_ttl. Features that
// only read state (expressions, exclude_current) do not change it.
uint64_t LayoutFingerprint(const CompiledFeatures& cf);

// The header: written once per checkpoint, next to the records.
std::string SaveHeader(const CompiledFeatures& cf, const Admission& admission);

// Every record of admission and the shards (any number of them) into `sink`: a full checkpoint.
// Afterwards nothing counts as changed.
core::Status SaveState(Admission* admission, const std::vector<Shard*>& shards, StateSink* sink);
// Only the keys changed since the last SaveState or SaveChanges, and a tombstone per evicted key:
// applied over the previous checkpoint's records they give this one's (an incremental checkpoint).
core::Status SaveChanges(Admission* admission, const std::vector<Shard*>& shards, StateSink* sink);
// Keys SaveChanges would write at most (to choose between a delta and a full checkpoint).
int64_t ChangedRecords(const Admission& admission, const std::vector<Shard*>& shards);

// SaveState (delta = false) or SaveChanges (true) as tasks that may run at once on different
// threads, each with a sink of its own: task 0 saves admission, the others `parts` parts of each
// shard (Shard::SaveKeysPart, Shard::SaveChangesPart). Run every task once, in any order, then End; a failed task
// leaves the change sets undefined (the next checkpoint must be a full one).
class SavePlan {
 public:
  SavePlan(Admission* admission, std::vector<Shard*> shards, bool delta, int parts);
  int tasks() const { return 1 + static_cast<int>(shards_.size()) * parts_; }
  core::Status Run(int task, StateSink* sink);
  core::Status End();

 private:
  Admission* admission_;
  std::vector<Shard*> shards_;
  bool delta_;
  int parts_;
  uint64_t delta_seq_;  // admission's after its save: the shards' delta records carry it
};

// Reads a checkpoint into a fresh engine: Header first, then every record in key order (as a
// store iterates them: each delta kind's records after its full kind's, deltas in order).
class StateRestorer {
 public:
  // `shards` are the new engine's shards, shards[i]->id() == i; they and `admission` must have
  // seen no event, and outlive the restorer.
  StateRestorer(const CompiledFeatures& cf, Admission* admission, std::vector<Shard*> shards);

  ~StateRestorer();  // the shards stop using the pages of UsePages
  StateRestorer(const StateRestorer&) = delete;
  StateRestorer& operator=(const StateRestorer&) = delete;
  // The shards copy restored entries into pages prefaulted by `pages` (another thread), which
  // must outlive the restorer.
  void UsePages(PrefaultedHugePages* pages);

  core::Status Header(std::string_view header);
  core::Status Record(std::string_view key, std::string_view value);
  // Key states restored (a key restored by the base and again by a delta counts twice).
  int64_t keys() const { return keys_; }


 private:
  core::Status KeyChunk(int key_space, std::string_view value, bool delta);
  const CompiledFeatures& cf_;
  Admission* admission_;
  std::vector<Shard*> shards_;
  bool header_ = false;
  int64_t keys_ = 0;
};

}  // namespace sluice::features
