#pragma once
// A shard owns the keyed window state of the keys that hash to it (OwnerShard), for every key
// space. It applies admitted events to those keys and writes their aggregation features into the
// event's row; expression features are computed afterwards from the full row (ExprSet).
// Not thread-safe: each shard is driven by one thread; shards share nothing but the immutable
// CompiledFeatures, so they run in parallel without locks. The one exception is SaveSnapshot,
// which runs beside the shard's thread (see TakeSnapshot).
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/value.h"
#include "sluice/features/admission.h"
#include "sluice/features/block_pool.h"
#include "sluice/features/compiled.h"
#include "sluice/features/keys.h"
#include "sluice/features/pending_states.h"
#include "sluice/features/state_codec.h"
#include "sluice/features/window_state.h"

namespace sluice::features {

class Shard {
 public:
  Shard(const CompiledFeatures& cf, int id, int num_shards);
  ~Shard();

  // One admitted event: its keys and flags (from Admission) per key space.
  struct Row {
    int64_t time_us;
    int64_t seq;
    const core::Value* fields;
    const KeyRef* keys;
    const uint8_t* flags;
  };
  // Applies events in order to the key spaces whose key this shard owns, writing row r's
  // features to out[r * stride + feature]; null keys get null (NaN) features from shard 0.
  // Cells of keys this shard does not own are left untouched: give each shard its own `out`
  // (shards writing one array would fight over its cache lines). A batch lets the shard look keys
  // up and prefetch their state ahead of use.
  void ApplyBatch(const Row* rows, size_t n, double* out, size_t stride);
  void Apply(const Row& row, double* out) { ApplyBatch(&row, 1, out, 0); }
  // Drops keys whose state can no longer be reached (see Evictable). While a snapshot is being
  // written (SaveSnapshot) it is put off to the first ApplyBatch after.
  void Sweep(int64_t stream_time);

  // Checkpoints (checkpoint.h, through features::SavePlan): key states in chunks (KeyChunkWriter),
  // kKeys records for a full checkpoint (SaveKeysPart: every key), kKeysDelta for an incremental
  // one (SaveChangesPart: the keys changed since the last save of either kind, and a tombstone for
  // each key evicted since; the delta's sequence number orders its records after earlier
  // deltas'). A save is `parts` parts over disjoint keys (one part: the whole save), which may run
  // at once on different threads, each with its own sink; then EndSave, after every part, starts
  // a new change set: nothing is changed. A full save's parts are ranges of the tables' order, a
  // delta's ranges of its change lists, whose chunks a part numbers from its own start
  // (KeyChunkWriter::kPartChunks) so that restore reads the parts in list order.
  core::Status SaveKeysPart(StateSink* sink, int part, int parts);
  core::Status SaveChangesPart(StateSink* sink, uint64_t delta_seq, int part, int parts);
  void EndSave();
  // Keys a delta would visit (an upper bound of the entries it writes).
  int64_t changed_keys() const { return changed_count_; }
  // A delta written beside the engine (docs/checkpoints.md, "Checkpoints are written beside the
  // engine"),
  // as Flink's asynchronous snapshots: TakeSnapshot, on the thread that drives the shard, takes
  // the change set as delta `delta_seq`'s and starts a new one (no key state is read or copied);
  // SaveSnapshot then writes that delta's entries (as SaveChangesPart's one part) on another
  // thread, while the shard goes on applying events and sweeping. A key of the snapshot that the
  // shard's thread is about to change before SaveSnapshot reached it is written by the shard's
  // thread first, into `side` (chunks numbered after SaveSnapshot's: restore reads them after);
  // a key SaveSnapshot is writing is waited for (one key's save), and a sweep leaves the
  // snapshot's keys for a later sweep. Once SaveSnapshot has returned, `side` is complete and
  // the shard's thread no longer touches it; the next TakeSnapshot (or any other save) only
  // after that. A failed SaveSnapshot still releases every key: the next save must be a full one.
  void TakeSnapshot(uint64_t delta_seq, StateSink* side);
  core::Status SaveSnapshot(StateSink* sink);
  // A full save written beside the engine: SavePending first writes the restored keys not
  // decoded yet (as SaveKeysPart does; they are bytes, not states the two threads could share),
  // then TakeFullSnapshot lists every state (one pass over the tables, tagging each) for
  // SaveSnapshot to write whole as kKeys chunks, as TakeSnapshot does for a delta. Afterwards
  // nothing counts as changed. `side` may be the sink SavePending wrote.
  core::Status SavePending(StateSink* sink);
  void TakeFullSnapshot(StateSink* side);
  // Changes are tracked from the first save (EndSave) or restore (this, which StateRestorer
  // calls): before either there is nothing for a delta to be relative to, and an engine that never
  // checkpoints (backfill, a run without state) keeps no list of its keys.
  void TrackChanges() { tracking_ = true; }
  // One entry written by SaveKeysPart or SaveChangesPart of any shard of any shard count: the key must be
  // one this shard owns now (OwnerShard of its hash, XXH3_64bits of its bytes). An entry of
  // SaveChanges (`patch`) patches the key's state as the previous checkpoint left it (the stored
  // events since then), so entries are restored in the order they were written; a new key starts
  // from a fresh state. EraseKey drops one (a tombstone), present or not.
  // Restore is lazy (pending_states.h): the entries of a key not decoded yet are kept as bytes
  // and decoded when the key is first needed; a decoded key's is decoded now. An entry found malformed
  // when decoded later makes error() fail (the key starts afresh); MaterializeAll decodes every
  // kept entry now and returns the first malformed one's error.
  core::Status RestoreKey(int key_space, std::string_view key, uint64_t hash,
                          std::string_view value, bool patch = false);
  core::Status EraseKey(int key_space, std::string_view key, uint64_t hash);
  core::Status MaterializeAll();
  // Ok, or the first malformed restored entry found since (the engine stops on it).
  const core::Status& error() const { return error_; }
  // Keys restored and not decoded yet.
  int64_t pending_keys() const;
  // Restored entries are copied into pages from `pages` while set (StateRestorer::UsePages).
  void UsePages(PrefaultedHugePages* pages) { pending_.set_pages(pages); }
  // Room for `more` keys of a key space beyond those held (restore knows a chunk's size), and
  // for at least `total` keys in all (restore's estimate of all the keys it will bring).
  void Reserve(int key_space, size_t more, size_t total = 0);

  int64_t keys() const;
  // Bytes of raw events held by all windows (what a window must keep, whatever the design), of
  // the keys decoded (restored keys not yet used are not counted).
  size_t EventBytes() const;
  int id() const { return id_; }

 private:
  class KeyState;
  struct KeyStateDeleter {
    void operator()(KeyState* s) const;
  };
  using KeyStatePtr = std::unique_ptr<KeyState, KeyStateDeleter>;
  // Where each group's state sits inside a key's block, and the pool of those blocks (declared
  // before tables_, so it outlives the key states that give their blocks back to it).
  struct Layout {
    const KeySpaceDef* ks;
    std::vector<size_t> offsets;
    size_t size;
    std::unique_ptr<BlockPool> pool;
  };
  void ApplyGroup(const GroupDef& g, WindowState* state, int64_t time_us, int64_t seq,
                  const core::Value* fields, bool in_order, int64_t newest, double* row);
  KeyState* Lookup(int ks, const KeyRef& key);
  // A new state for a key not in the table: its pending entry decoded, or a fresh one.
  KeyState* Create(int ks, const KeyRef& key);
  // Decodes a key's entry over its state; false when the entry is malformed.
  static bool Decode(KeyState* st, std::string_view value);
  static bool Decode(KeyState* st, const PendingStates::Entry& e);  // each of its values
  core::Status Malformed(int ks) const;
  // SaveChanges reads states this many entries after asking for their memory.
  static constexpr int kAhead = 8;
  void PrefetchBlock(size_t ks, const KeyState* st) const;
  static void SaveKey(KeyState* st, bool full, StateWriter* w);
  std::string ChunkPrefix(RecordKind kind, size_t ks, uint64_t delta_seq) const;
  core::Status CheckOwned(int ks, uint64_t hash) const;
  void ApplyRow(const Row& r, KeyState* const* states, double* out);
  void NoteChanged(size_t ks, std::string_view key, KeyState* st);
  static void AppendListed(std::string* list, std::string_view key, KeyState* st);
  // A state about to change whose tag is not this change set's: listed, after its entry is
  // written for the snapshot when it is one of the snapshot's (SaveForSnapshot).
  void Touch(size_t ks, std::string_view key, KeyState* st, uint32_t tag);
  void SaveForSnapshot(size_t ks, std::string_view key, KeyState* st);
  struct Snapshot;
  Snapshot& StartSnapshot(bool full, uint64_t delta_seq, StateSink* side);
  std::string SnapshotPrefix(size_t ks) const;  // the chunks' record key prefix
  core::Status SavePendingRange(size_t ks, KeyChunkWriter* chunks, size_t lo, size_t hi);
  // Calls fn(state, key) for each entry of a change list from byte `lo` to `hi` (entries that
  // start in that range), state null for an evicted key, asking for each state's memory kAhead
  // entries ahead.
  template <typename Fn>
  void ForEachListed(size_t ks, const std::string& list, size_t lo, size_t hi, Fn&& fn) const;

  const CompiledFeatures& cf_;
  int id_, num_shards_;
  std::vector<Layout> layouts_;  // per key space
  std::vector<KeyMap<KeyStatePtr>> tables_;
  // Scratch reused for every event: no allocation on the hot path once warm.
  std::vector<Slot> slots_;
  std::vector<double> excl_, incl_, lift_;
  std::vector<Token> tokens_;
  std::vector<int64_t> distinct_count_;
  std::unique_ptr<bool[]> distinct_has_;
  Scratch scratch_;
  std::vector<KeyState*> states_;  // per row of a sub-batch, per key space
  // Per key space, the keys changed or evicted since the last save, each once per change set
  // (a state listed carries the change set's epoch_ as its tag), as the state's pointer (null
  // once evicted) + u32 length + key bytes, padded to 8 bytes.
  // One buffer rather than a string per key: once warm it allocates nothing.
  std::vector<std::string> changed_;
  int64_t changed_count_ = 0;
  bool tracking_ = false;
  // Tags (KeyState::tag): 0 for a state in no list; epoch_ for one in changed_; the snapshot's
  // epoch (Snapshot::epoch, the change set's it took) for one listed by the snapshot SaveSnapshot
  // is writing and not written yet; kSaving while a thread writes its entry (owned by that
  // thread until it stores 0).
  static constexpr uint32_t kSaving = ~uint32_t{0};
  uint32_t epoch_ = 1;
  std::unique_ptr<Snapshot> snap_;  // the last one taken
  bool SnapshotDone() const;        // no snapshot's SaveSnapshot is running
  // A sweep put off while SaveSnapshot ran: its stream time.
  static constexpr int64_t kNoSweepDue = std::numeric_limits<int64_t>::min();
  int64_t sweep_due_ = kNoSweepDue;
  PendingStates pending_;  // restored keys not decoded yet (not in tables_)
  core::Status error_;
};

}  // namespace sluice::features
