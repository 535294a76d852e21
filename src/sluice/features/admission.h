#pragma once
// Admission decides, in log order, whether an event is applied (docs/semantics.md "Admission"):
// older than stream time − state_ttl → `expired`; late for any key → dead letter `late`;
// otherwise applied, with a per-key-space note of whether the key starts afresh (TTL) and whether
// the event is in order for it. It keeps only each key's newest time, so it is cheap to run
// sequentially in front of parallel shards. Not thread-safe: one instance, fed in log order.
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/core/reason.h"
#include "sluice/features/compiled.h"
#include "sluice/features/keys.h"
#include "sluice/features/state_codec.h"

namespace sluice::features {

// Per key space, for an applied event.
enum KeyFlags : uint8_t { kKeyInOrder = 1, kKeyReset = 2 };

class Admission {
 public:
  explicit Admission(const CompiledFeatures& cf);

  // `keys` and `flags` have one entry per key space. Returns kNone when the event is applied.
  core::Reason Admit(int64_t time_us, const KeyRef* keys, uint8_t* flags, std::string* detail);

  // Checkpoints (checkpoint.h). The scalars go in the checkpoint's header. A full checkpoint
  // (SaveKeys) writes each key's newest time (svar) in chunks (KeyChunkWriter,
  // RecordKind::kAdmission), a few large values being cheaper to store and read than one per
  // key. An incremental one (SaveChanges) writes the keys changed since the last save — each
  // with its newest time, or as evicted (a tombstone) — in kAdmissionDelta chunks keyed by a
  // delta sequence number (kept in the header) so that they sort after the full chunks and after
  // every earlier delta's: restore applies them in key order, later over earlier.
  void SaveHeader(StateWriter* w) const;
  core::Status SaveKeys(StateSink* sink);
  core::Status SaveChanges(StateSink* sink);
  // SaveChanges in two steps, for a delta written beside the engine: TakeChanges (in log order,
  // between events) takes the change set, as entries that already hold each key's newest time,
  // and starts a new one in the buffers of the set taken before; WriteChanges writes what it
  // returns (valid until the next TakeChanges or SaveChanges), on any thread, while the
  // Admission goes on.
  struct Changes {
    uint64_t delta_seq = 0;
    std::vector<std::string> lists;  // per key space, as changed_
  };
  const Changes& TakeChanges();
  static core::Status WriteChanges(const Changes& changes, StateSink* sink);
  int64_t changed_keys() const { return changed_count_; }
  // Changes are tracked from the first save or restore, as Shard::TrackChanges says.
  void TrackChanges() { tracking_ = true; }
  // The last SaveChanges' sequence number: the shards' delta records of that save carry it too.
  uint64_t delta_seq() const { return delta_seq_; }
  // Into an Admission that has seen no event: the header, then the chunks in any order, then
  // the per-key records.
  // key_counts: the header holds each key space's key count (state format 5 on).
  bool RestoreHeader(StateReader* r, bool key_counts);
  core::Status RestoreKeys(int key_space, std::string_view value);
  core::Status RestoreDelta(int key_space, std::string_view value);

  int64_t stream_time() const { return stream_time_; }
  int64_t keys() const;
  int64_t keys(int key_space) const;

 private:
  struct Entry {
    int64_t newest;
    uint32_t tag;        // epoch_ when listed in changed_ (changed since the last save)
    uint32_t listed_at;  // then where, in 8-byte units: Admit keeps the listed newest time
  };
  void MaybeSweep();
  // Lists a key: with its entry (tagged, its newest time kept up to date), or evicted (null).
  void NoteChanged(size_t ks, std::string_view key, Entry* e);
  void NextEpoch();
  core::Status RestoreChunk(int ks, std::string_view value, bool delta);

  const CompiledFeatures& cf_;
  std::vector<KeyMap<Entry>> newest_;  // per key space
  std::vector<KeyMap<Entry>::iterator> found_;
  // Per key space, keys changed or evicted since the last save, each once per change set (a
  // later entry for a key evicted and seen again): i64 newest time, u32 key length with the top
  // bit set for an evicted key, key bytes, padded to 8 bytes. A save reads the list, not the table.
  std::vector<std::string> changed_;
  int64_t changed_count_ = 0;
  uint32_t epoch_ = 1;  // the change set's tag (never 0: an entry's tag before any listing)
  Changes taken_;       // the last change set taken
  int64_t stream_time_;
  int64_t last_sweep_ = 0;
  uint64_t delta_seq_ = 0;  // SaveChanges calls so far (restored from the header)
  bool tracking_ = false;
};

// True when `stream_time` says a key last seen at `newest` can never be reached again without
// being reset (rule 2 of admission), so its state may leave memory.
inline bool Evictable(int64_t newest, int64_t stream_time, int64_t ttl) {
  return newest < stream_time - 2 * ttl;
}

}  // namespace sluice::features
