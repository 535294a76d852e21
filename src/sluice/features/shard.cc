#include "sluice/features/shard.h"

#include <algorithm>
#include <absl/container/flat_hash_set.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

namespace sluice::features {

namespace {

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

// The feature's value from its group's partial (with or without the current event).
double Finish(const GroupDef& g, const GroupFeature& f, const double* p, int64_t time_us) {
  using spec::AggKind;
  const double* q = p + g.ops.ops()[f.op].offset;
  switch (f.agg) {
    case AggKind::kCount:
    case AggKind::kSum:
      return q[0];
    case AggKind::kMean:
      return q[0] > 0 ? q[1] / q[0] : kNull;
    case AggKind::kVar:
      return q[0] >= 2 ? std::fmax(0.0, q[2] / (q[0] - 1)) : kNull;
    case AggKind::kStddev:
      return q[0] >= 2 ? std::sqrt(std::fmax(0.0, q[2] / (q[0] - 1))) : kNull;
    case AggKind::kMin:
    case AggKind::kMax:
      return q[0];
    case AggKind::kFirst:
    case AggKind::kLast:
      return q[1];
    case AggKind::kEwma:
      return q[1] > 0 ? q[0] / q[1] : kNull;
    case AggKind::kTimeSinceLast:
      return std::isinf(q[0]) ? kNull : (static_cast<double>(time_us) - q[0]) / 1e6;
    default:
      return kNull;
  }
}

}  // namespace

// One block per key, from the key space's BlockPool: this header, then each group's state at
// Layout::offsets. Keeping a key's state together means an event touches a few adjacent cache
// lines instead of a pointer chase per window group.
class Shard::KeyState {
 public:
  static KeyState* Create(const Layout& l) { return CreateAt(l, l.pool->Get()); }
  // In memory of the caller's (of l.size bytes, 16-aligned); DestroyInPlace ends it.
  static KeyState* CreateAt(const Layout& l, void* mem) {
    KeyState* st = new (mem) KeyState(&l);
    for (size_t g = 0; g < l.offsets.size(); ++g) {
      ConstructState(l.ks->groups[g], static_cast<char*>(mem) + l.offsets[g]);
    }
    return st;
  }
  void Destroy() {
    BlockPool* pool = layout_->pool.get();
    DestroyInPlace();
    pool->Put(this);
  }
  void DestroyInPlace() {
    for (size_t g = 0; g < layout_->offsets.size(); ++g) group(g)->~WindowState();
    this->~KeyState();
  }
  WindowState* group(size_t g) {
    return reinterpret_cast<WindowState*>(reinterpret_cast<char*>(this) + layout_->offsets[g]);
  }
  // Starts the key afresh in place, so pointers to this state stay valid.
  void Reset() {
    for (size_t g = 0; g < layout_->offsets.size(); ++g) {
      group(g)->~WindowState();
      ConstructState(layout_->ks->groups[g], group(g));
    }
    fresh = true;
  }
  void PrefetchGroups() {
    for (size_t g = 0; g < layout_->offsets.size(); ++g) group(g)->Prefetch();
  }
  size_t group_count() const { return layout_->offsets.size(); }
  const WindowState* group(size_t g) const { return const_cast<KeyState*>(this)->group(g); }
  int64_t newest = 0;
  bool fresh = true;  // nothing applied since creation or reset
  // Which change list holds it, if any (Shard::epoch_); the one atomic field: SaveSnapshot's
  // thread and the shard's take a snapshot's state by swapping it to kSaving.
  std::atomic<uint32_t> tag{0};
  uint32_t listed_at = 0;  // tagged epoch_: where Shard::changed_ lists it, in 8-byte units

 private:
  explicit KeyState(const Layout* l) : layout_(l) {}
  const Layout* layout_;
};

void Shard::KeyStateDeleter::operator()(KeyState* s) const { s->Destroy(); }

// The change set SaveSnapshot writes (TakeSnapshot), and the entries the shard's thread writes
// for it (SaveForSnapshot).
struct Shard::Snapshot {
  std::vector<std::string> lists;  // per key space, as changed_
  bool full = false;               // every state (TakeFullSnapshot), written whole
  uint64_t delta_seq = 0;
  uint32_t epoch = 0;
  StateSink* side = nullptr;
  std::mutex mu;  // guards the rest: the shard's thread writes, SaveSnapshot closes
  bool closed = false;
  std::vector<std::unique_ptr<KeyChunkWriter>> writers;  // per key space, into side, when used
  core::Status side_status;
  // Set by SaveSnapshot when it is done with the lists and their states: until then no state
  // may be destroyed (a sweep waits), as the lists point at them.
  std::atomic<bool> done{true};
};

Shard::Shard(const CompiledFeatures& cf, int id, int num_shards)
    : cf_(cf),
      id_(id),
      num_shards_(num_shards),
      tables_(cf.key_spaces.size()),
      changed_(cf.key_spaces.size()),
      pending_(cf.key_spaces.size()) {
  for (const auto& ks : cf.key_spaces) {
    Layout l{&ks, {}, 0, nullptr};
    l.size = (sizeof(KeyState) + 15) & ~size_t{15};
    for (const auto& g : ks.groups) {
      l.offsets.push_back(l.size);
      l.size += (StateSize(g) + 15) & ~size_t{15};
    }
    l.pool = std::make_unique<BlockPool>(l.size);
    layouts_.push_back(std::move(l));
  }
  int slots = 0, width = 0;
  size_t distinct = 0;
  for (const auto& ks : cf.key_spaces) {
    for (const auto& g : ks.groups) {
      slots = std::max(slots, g.num_slots);
      width = std::max(width, g.ops.width());
      distinct = std::max(distinct, g.distinct.size());
    }
  }
  slots_.resize(slots + 1);
  excl_.resize(width + 1);
  incl_.resize(width + 1);
  lift_.resize(width + 1);
  tokens_.resize(distinct + 1);
  distinct_count_.resize(distinct + 1);
  distinct_has_ = std::make_unique<bool[]>(distinct + 1);
  scratch_.partial.resize(width + 1);
  scratch_.sets.resize(distinct);
}

Shard::~Shard() = default;

Shard::KeyState* Shard::Lookup(int ks, const KeyRef& key) {
  // One probe whether the key is new or not (most keys of a composite key space are new).
  auto it = tables_[ks].lazy_emplace(key, [&](const auto& ctor) {
    ctor(std::string(key.bytes), KeyStatePtr(Create(ks, key)));
  });
  return it->second.get();
}

Shard::KeyState* Shard::Create(int ks, const KeyRef& key) {
  KeyState* st = KeyState::Create(layouts_[ks]);
  pending_.Take(ks, key, [&](const PendingStates::Entry& e) {
    if (Decode(st, e)) return;
    if (error_.ok()) error_ = Malformed(ks);
    st->Reset();
    st->newest = 0;
  });
  return st;
}

bool Shard::Decode(KeyState* st, const PendingStates::Entry& e) {
  return e.ForEachValue([&](std::string_view value) { return Decode(st, value); });
}

bool Shard::Decode(KeyState* st, std::string_view value) {
  StateReader r(value);
  st->newest = r.SVar();
  st->fresh = r.U8() != 0;
  bool ok = !r.failed();
  for (size_t g = 0; ok && g < st->group_count(); ++g) ok = st->group(g)->Restore(&r);
  return ok && r.done();
}

core::Status Shard::Malformed(int ks) const {
  return core::Status::Corruption("malformed checkpoint state for a key of key space " +
                                  cf_.key_spaces[ks].name);
}

void Shard::ApplyBatch(const Row* rows, size_t n, double* out, size_t stride) {
  if (sweep_due_ != kNoSweepDue && SnapshotDone()) Sweep(sweep_due_);
  constexpr size_t kSub = 32, kAheadLookup = 4;
  const size_t nk = cf_.key_spaces.size();
  states_.resize(kSub * nk);
  auto mine = [&](const KeyRef& k) { return !k.null && OwnerShard(k.hash, num_shards_) == id_; };
  for (size_t base = 0; base < n; base += kSub) {
    const size_t m = std::min(kSub, n - base);
    // Resolve every key of the sub-batch, prefetching hash slots a few rows ahead.
    for (size_t j = 0; j < m; ++j) {
      if (base + j + kAheadLookup < n) {
        const Row& ahead = rows[base + j + kAheadLookup];
        for (size_t k = 0; k < nk; ++k) {
          if (mine(ahead.keys[k])) tables_[k].prefetch(ahead.keys[k]);
        }
      }
      const Row& r = rows[base + j];
      for (size_t k = 0; k < nk; ++k) {
        KeyState* st = mine(r.keys[k]) ? Lookup(static_cast<int>(k), r.keys[k]) : nullptr;
        PrefetchBlock(k, st);
        states_[j * nk + k] = st;
      }
    }
    // Every block of the sub-batch was prefetched above and is arriving; now ask for the lines
    // each window will touch (its ring ends and suffix aggregates), then apply in order.
    for (size_t j = 0; j < m * nk; ++j) {
      if (KeyState* st = states_[j]) st->PrefetchGroups();
    }
    for (size_t j = 0; j < m; ++j) {
      ApplyRow(rows[base + j], &states_[j * nk], out + (base + j) * stride);
    }
  }
}

void Shard::ApplyRow(const Row& r, KeyState* const* states, double* out) {
  for (size_t k = 0; k < cf_.key_spaces.size(); ++k) {
    const KeySpaceDef& ks = cf_.key_spaces[k];
    if (r.keys[k].null) {
      if (id_ != 0) continue;  // one shard writes the nulls, so no two threads touch one cell
      for (const auto& g : ks.groups) {
        for (const auto& f : g.features) out[f.feature] = kNull;
      }
      continue;
    }
    KeyState* st = states[k];
    if (!st) continue;  // another shard's key
    if (tracking_) {
      const uint32_t tag = st->tag.load(std::memory_order_acquire);
      if (tag != epoch_) Touch(k, r.keys[k].bytes, st, tag);
    }
    if ((r.flags[k] & kKeyReset) && !st->fresh) st->Reset();
    st->fresh = false;
    const bool in_order = r.flags[k] & kKeyInOrder;
    if (in_order) st->newest = r.time_us;
    for (size_t g = 0; g < ks.groups.size(); ++g) {
      ApplyGroup(ks.groups[g], st->group(g), r.time_us, r.seq, r.fields, in_order, st->newest, out);
    }
  }
}

void Shard::ApplyGroup(const GroupDef& g, WindowState* state, int64_t time_us, int64_t seq,
                       const core::Value* fields, bool in_order, int64_t newest, double* row) {
  for (const ColumnDef& c : g.columns) {
    const core::Value& v = fields[c.field];
    switch (c.kind) {
      case ColumnDef::Kind::kNumber:
        slots_[c.slot].d = v.AsDouble();
        break;
      case ColumnDef::Kind::kPresence:
        slots_[c.slot].d = v.is_null() ? kNull : 1.0;
        break;
      case ColumnDef::Kind::kToken: {
        Token t = v.kind == core::Value::Kind::kString ? StringToken(v.s)
                  : v.kind == core::Value::Kind::kInt  ? IntToken(v.i)
                                                       : Token{};
        slots_[c.slot].u = t.a;
        slots_[c.slot + 1].u = t.b;
      }
    }
  }
  for (size_t d = 0; d < g.distinct.size(); ++d)
    tokens_[d] = ColumnToken(g.distinct[d], slots_.data());
  g.ops.Lift(time_us, seq, slots_.data(), lift_.data());
  EventIn in{time_us,      seq,      slots_.data(), tokens_.data(),
             lift_.data(), in_order, newest,        cf_.lateness_us};
  WindowOut out{excl_.data(), distinct_count_.data(), distinct_has_.get()};
  state->Apply(in, &scratch_, &out);
  if (g.any_included && !g.ops.empty()) {
    for (int i = 0; i < g.ops.width(); ++i) incl_[i] = excl_[i];
    g.ops.Combine(incl_.data(), lift_.data());
  }
  for (const GroupFeature& f : g.features) {
    if (f.distinct >= 0) {
      const int d = f.distinct;
      const bool adds = !f.exclude_current && !tokens_[d].is_null() && !distinct_has_[d];
      row[f.feature] = static_cast<double>(distinct_count_[d] + (adds ? 1 : 0));
    } else {
      row[f.feature] = Finish(g, f, f.exclude_current ? excl_.data() : incl_.data(), time_us);
    }
  }
}

// Entries start at multiples of 8 bytes, so a state's place fits 32 bits up to 32 GiB of list.
void Shard::AppendListed(std::string* list, std::string_view key, KeyState* st) {
  const uint32_t n = static_cast<uint32_t>(key.size());
  list->append(reinterpret_cast<const char*>(&st), sizeof st);
  list->append(reinterpret_cast<const char*>(&n), 4);
  list->append(key);
  list->resize((list->size() + 7) & ~size_t{7});
}

void Shard::NoteChanged(size_t ks, std::string_view key, KeyState* st) {
  if (st) st->listed_at = static_cast<uint32_t>(changed_[ks].size() / 8);
  AppendListed(&changed_[ks], key, st);
  ++changed_count_;
}

template <typename Fn>
void Shard::ForEachListed(size_t ks, const std::string& list, size_t lo, size_t hi,
                          Fn&& fn) const {
  struct Entry {
    KeyState* st;
    std::string_view key;
  };
  auto read = [&list](size_t* pos) {
    Entry e;
    uint32_t n;
    std::memcpy(&e.st, list.data() + *pos, sizeof e.st);
    std::memcpy(&n, list.data() + *pos + sizeof e.st, 4);
    e.key = std::string_view(list.data() + *pos + sizeof e.st + 4, n);
    *pos += (sizeof e.st + 4 + n + 7) & ~size_t{7};
    return e;
  };
  // Entries are variable-length: the first at or after `lo` and `hi` are walked to.
  size_t begin = 0;
  while (begin < lo) read(&begin);
  size_t end = begin;
  while (end < hi) read(&end);
  size_t ahead = begin;  // the entry kAhead after the current one, whose block is prefetched
  for (int i = 0; i < kAhead && ahead < end; ++i) PrefetchBlock(ks, read(&ahead).st);
  for (size_t pos = begin; pos < end;) {
    const Entry e = read(&pos);
    if (ahead < end) PrefetchBlock(ks, read(&ahead).st);
    fn(e.st, e.key);
  }
}

void Shard::Touch(size_t ks, std::string_view key, KeyState* st, uint32_t tag) {
  if (tag != 0) SaveForSnapshot(ks, key, st);  // one of the snapshot's
  st->tag.store(epoch_, std::memory_order_relaxed);
  NoteChanged(ks, key, st);
}

// Takes the state from the snapshot (tag Snapshot::epoch → kSaving) and writes its entry, or finds
// SaveSnapshot has written it (0), or waits while SaveSnapshot writes it (kSaving). SaveSnapshot
// closes the side writers under the same lock, after every state of its lists was taken by one
// thread or the other: a state taken here is written before they close.
void Shard::SaveForSnapshot(size_t ks, std::string_view key, KeyState* st) {
  Snapshot& s = *snap_;
  std::lock_guard<std::mutex> lock(s.mu);
  for (;;) {
    uint32_t want = s.epoch;
    if (st->tag.compare_exchange_strong(want, kSaving, std::memory_order_acquire)) break;
    if (want != kSaving) return;  // 0: written by SaveSnapshot meanwhile
    std::this_thread::yield();    // being written by SaveSnapshot
  }
  if (!s.closed && s.side_status.ok()) {
    auto& w = s.writers[ks];
    if (!w) w = std::make_unique<KeyChunkWriter>(s.side, SnapshotPrefix(ks), KeyChunkWriter::kPartChunks);
    s.side_status = w->Add(key, [&](StateWriter* sw) { SaveKey(st, s.full, sw); });
  }
  st->tag.store(0, std::memory_order_relaxed);  // Touch lists it now
}

std::string Shard::SnapshotPrefix(size_t ks) const {
  const Snapshot& s = *snap_;
  return s.full ? ChunkPrefix(RecordKind::kKeys, ks, 0)
                : ChunkPrefix(RecordKind::kKeysDelta, ks, s.delta_seq);
}

Shard::Snapshot& Shard::StartSnapshot(bool full, uint64_t delta_seq, StateSink* side) {
  if (!snap_) snap_ = std::make_unique<Snapshot>();
  Snapshot& s = *snap_;
  s.lists.resize(changed_.size());
  s.full = full;
  s.delta_seq = delta_seq;
  s.epoch = epoch_;
  s.side = side;
  s.closed = false;
  s.writers.clear();
  s.writers.resize(changed_.size());
  s.side_status = core::Status::Ok();
  s.done.store(false, std::memory_order_relaxed);  // published with the snapshot
  epoch_ = epoch_ + 1 == kSaving ? 1 : epoch_ + 1;  // never 0 or kSaving
  changed_count_ = 0;
  tracking_ = true;
  return s;
}

void Shard::TakeSnapshot(uint64_t delta_seq, StateSink* side) {
  Snapshot& s = StartSnapshot(false, delta_seq, side);
  for (size_t ks = 0; ks < changed_.size(); ++ks) {
    s.lists[ks].clear();
    s.lists[ks].swap(changed_[ks]);  // the last snapshot's buffer, warm, for the next change set
  }
}

// Every state is listed and tagged the snapshot's (a pass over the tables, prefetching the
// states a few slots ahead); the change lists start afresh (a full save has no tombstones).
void Shard::TakeFullSnapshot(StateSink* side) {
  Snapshot& s = StartSnapshot(true, 0, side);
  for (size_t ks = 0; ks < changed_.size(); ++ks) {
    std::string& list = s.lists[ks];
    list.clear();           // the last snapshot's buffer, warm: the new change set's
    changed_[ks].clear();   // a full save writes no tombstone, and every state anyway
    list.swap(changed_[ks]);
    auto& table = tables_[ks];
    auto ahead = table.begin();
    int lead = 0;  // slots between `it` and `ahead`, whose states are asked for
    for (auto it = table.begin(); it != table.end(); ++it, --lead) {
      for (; ahead != table.end() && lead < kAhead; ++ahead, ++lead)
        __builtin_prefetch(ahead->second.get(), 1);
      KeyState* st = it->second.get();
      st->tag.store(s.epoch, std::memory_order_relaxed);
      AppendListed(&list, it->first, st);
    }
  }
}

core::Status Shard::SavePending(StateSink* sink) {
  for (size_t ks = 0; ks < tables_.size(); ++ks) {
    KeyChunkWriter chunks(sink, ChunkPrefix(RecordKind::kKeys, ks, 0),
                          2 * KeyChunkWriter::kPartChunks);
    SLUICE_RETURN_IF_ERROR(SavePendingRange(ks, &chunks, 0, pending_.size(static_cast<int>(ks))));
    SLUICE_RETURN_IF_ERROR(chunks.Finish());
  }
  return core::Status::Ok();
}

core::Status Shard::SaveSnapshot(StateSink* sink) {
  if (!snap_) return core::Status::Internal("SaveSnapshot without a snapshot");
  Snapshot& s = *snap_;
  core::Status status;
  absl::flat_hash_set<std::string_view> deleted;
  for (size_t ks = 0; ks < s.lists.size(); ++ks) {
    KeyChunkWriter chunks(sink, SnapshotPrefix(ks));
    deleted.clear();
    // After an error every state is still taken and given back, so that none stays tagged.
    ForEachListed(ks, s.lists[ks], 0, s.lists[ks].size(), [&](KeyState* st, std::string_view key) {
      if (!st) {
        if (status.ok() && deleted.insert(key).second) status = chunks.Tombstone(key);
        return;
      }
      uint32_t want = s.epoch;
      if (!st->tag.compare_exchange_strong(want, kSaving, std::memory_order_acquire)) return;
      if (status.ok()) status = chunks.Add(key, [&](StateWriter* w) { SaveKey(st, s.full, w); });
      st->tag.store(0, std::memory_order_release);  // the shard's thread may change it now
    });
    if (status.ok()) status = chunks.Finish();
  }
  std::lock_guard<std::mutex> lock(s.mu);
  s.closed = true;
  if (status.ok()) status = s.side_status;
  for (auto& w : s.writers) {
    if (w && status.ok()) status = w->Finish();
  }
  s.writers.clear();
  s.done.store(true, std::memory_order_release);
  return status;
}

bool Shard::SnapshotDone() const {
  return !snap_ || snap_->done.load(std::memory_order_acquire);
}

void Shard::Sweep(int64_t stream_time) {
  if (!SnapshotDone()) {  // its lists point at states: swept by the first batch after it
    sweep_due_ = std::max(sweep_due_, stream_time);
    return;
  }
  sweep_due_ = kNoSweepDue;
  for (size_t ks = 0; ks < tables_.size(); ++ks) {
    absl::erase_if(tables_[ks], [&](const auto& kv) {
      const uint32_t tag = kv.second->tag.load(std::memory_order_relaxed);  // 0 or epoch_
      if (!Evictable(kv.second->newest, stream_time, cf_.ttl_us)) return false;
      // Listed as evicted (no state): a new entry, or the changed key's entry, whose state goes.
      if (tag == epoch_) {
        std::memset(changed_[ks].data() + size_t{kv.second->listed_at} * 8, 0, sizeof(KeyState*));
      } else if (tracking_) {
        NoteChanged(ks, kv.first, nullptr);
      }
      return true;
    });
    // Restored keys not decoded yet: their newest time leads their entry.
    pending_.EraseIf(static_cast<int>(ks), [&](const PendingStates::Entry& e) {
      StateReader r(e.value);
      const int64_t newest = r.SVar();
      if (r.failed() || !Evictable(newest, stream_time, cf_.ttl_us)) return false;
      if (tracking_) NoteChanged(ks, e.key, nullptr);
      return true;
    });
  }
}

// A key's entry: its header, then each group's state (its events as a patch over the last save
// unless `full`). The key's state is then what the checkpoint holds: marked.
void Shard::SaveKey(KeyState* st, bool full, StateWriter* w) {
  w->SVar(st->newest);
  w->U8(st->fresh ? 1 : 0);
  for (size_t g = 0; g < st->group_count(); ++g) {
    st->group(g)->Save(w, full);
    st->group(g)->Mark();
  }
}

std::string Shard::ChunkPrefix(RecordKind kind, size_t ks, uint64_t delta_seq) const {
  std::string prefix;
  AppendRecordKey(kind, static_cast<int>(ks), {}, &prefix);
  if (kind == RecordKind::kKeysDelta) AppendBigEndian(delta_seq, 8, &prefix);
  AppendBigEndian(static_cast<uint64_t>(id_), 4, &prefix);
  return prefix;
}

// A state's block (none for null), from its key space's size: reading the size from the block
// would wait for the block.
void Shard::PrefetchBlock(size_t ks, const KeyState* st) const {
  const char* p = reinterpret_cast<const char*>(st);
  for (size_t off = 0; st && off < layouts_[ks].size; off += 64) __builtin_prefetch(p + off);
}

void Shard::EndSave() {
  tracking_ = true;
  for (std::string& list : changed_) list.clear();
  changed_count_ = 0;
}

namespace {

// A part's share of n items (n is a table's size or a list's bytes, far below 2^54):
// [n * part / parts, n * (part + 1) / parts), parts <= 1024.
size_t PartBound(size_t n, int part, int parts) {
  return n * static_cast<size_t>(part) / static_cast<size_t>(parts);
}

}  // namespace

// A pending full entry is what SaveKey would write for it: copied as is. A pending patch is
// decoded into a scratch state to be written whole: the caller's own memory, not the key
// space's BlockPool, which parts running at once on other threads must not share.
core::Status Shard::SavePendingRange(size_t ks, KeyChunkWriter* chunks, size_t lo, size_t hi) {
  core::Status status;
  std::unique_ptr<char[]> scratch_mem;
  KeyState* scratch = nullptr;
  pending_.ForRange(static_cast<int>(ks), lo, hi, [&](const PendingStates::Entry& e) {
    if (!status.ok()) return;
    if (!e.patch) {
      status = chunks->Add(e.key, [&](StateWriter* w) { w->Raw(e.value.data(), e.value.size()); });
      return;
    }
    if (!scratch) {
      scratch_mem.reset(new char[layouts_[ks].size]);  // 16-aligned, as the pool's blocks
      scratch = KeyState::CreateAt(layouts_[ks], scratch_mem.get());
    } else {
      scratch->Reset();
    }
    if (!Decode(scratch, e)) {
      status = Malformed(static_cast<int>(ks));
      return;
    }
    status = chunks->Add(e.key, [&](StateWriter* w) { SaveKey(scratch, true, w); });
  });
  if (scratch) scratch->DestroyInPlace();
  return status;
}

core::Status Shard::SaveKeysPart(StateSink* sink, int part, int parts) {
  for (size_t ks = 0; ks < tables_.size(); ++ks) {
    KeyChunkWriter chunks(sink, ChunkPrefix(RecordKind::kKeys, ks, 0),
                          static_cast<uint32_t>(part) * KeyChunkWriter::kPartChunks);
    // The parts share the table's keys, then the pending ones'.
    const size_t held = tables_[ks].size();
    const size_t all = held + pending_.size(static_cast<int>(ks));
    const size_t lo = PartBound(all, part, parts);
    const size_t hi = PartBound(all, part + 1, parts);
    size_t i = 0;
    for (auto it = tables_[ks].begin(); i < std::min(hi, held); ++it, ++i) {
      if (i < lo) continue;  // stepping over a slot reads only its control byte
      KeyState* state = it->second.get();
      state->tag.store(0, std::memory_order_relaxed);
      SLUICE_RETURN_IF_ERROR(
          chunks.Add(it->first, [&](StateWriter* w) { SaveKey(state, true, w); }));
    }
    SLUICE_RETURN_IF_ERROR(SavePendingRange(ks, &chunks, std::max(lo, held) - held,
                                            hi > held ? hi - held : 0));
    SLUICE_RETURN_IF_ERROR(chunks.Finish());
  }
  return core::Status::Ok();
}

// The listed entries in order: a state (changed, each listed once) or an evicted key, written
// as a tombstone once. A key evicted and created again is listed as evicted first, then with its
// new state (a patch over nothing), so restore drops the old state before it takes the new one:
// its live entry is its last, so a part never writes a tombstone of a key an earlier part wrote
// live. States are read through their listed pointers, no table lookup, and their memory is asked
// for a few entries ahead: the states of a delta are scattered over the shard's memory.
core::Status Shard::SaveChangesPart(StateSink* sink, uint64_t delta_seq, int part, int parts) {
  if (!tracking_) return core::Status::Internal("no change set to save: save or restore first");
  absl::flat_hash_set<std::string_view> deleted;
  for (size_t ks = 0; ks < tables_.size(); ++ks) {
    KeyChunkWriter chunks(sink, ChunkPrefix(RecordKind::kKeysDelta, ks, delta_seq),
                          static_cast<uint32_t>(part) * KeyChunkWriter::kPartChunks);
    const std::string& list = changed_[ks];
    deleted.clear();
    core::Status status;
    ForEachListed(ks, list, PartBound(list.size(), part, parts),
                  PartBound(list.size(), part + 1, parts),
                  [&](KeyState* st, std::string_view key) {
      if (!status.ok()) return;
      if (!st) {
        if (deleted.insert(key).second) status = chunks.Tombstone(key);
        return;
      }
      st->tag.store(0, std::memory_order_relaxed);
      status = chunks.Add(key, [&](StateWriter* w) { SaveKey(st, false, w); });
    });
    SLUICE_RETURN_IF_ERROR(status);
    SLUICE_RETURN_IF_ERROR(chunks.Finish());
  }
  return core::Status::Ok();
}

void Shard::Reserve(int ks, size_t more, size_t total) {
  if (ks < 0 || ks >= static_cast<int>(tables_.size())) return;
  // Restored keys wait in pending_ until used; the table takes them one by one.
  pending_.Reserve(ks, std::max(pending_.size(ks) + more, total));
  tables_[ks].reserve(std::max(tables_[ks].size() + more, total));
}

// Restore's checks of an entry: a known key space, and a key this shard owns.
core::Status Shard::CheckOwned(int ks, uint64_t hash) const {
  if (ks < 0 || ks >= static_cast<int>(tables_.size()))
    return core::Status::Corruption("checkpoint record for unknown key space " +
                                    std::to_string(ks));
  if (OwnerShard(hash, num_shards_) != id_)
    return core::Status::InvalidArgument("checkpoint key given to a shard that does not own it");
  return core::Status::Ok();
}

core::Status Shard::EraseKey(int ks, std::string_view key, uint64_t hash) {
  SLUICE_RETURN_IF_ERROR(CheckOwned(ks, hash));
  const KeyRef ref{key, hash, false};
  if (tables_[ks].erase(ref) == 0) pending_.Erase(ks, ref);
  return core::Status::Ok();
}

core::Status Shard::RestoreKey(int ks, std::string_view key, uint64_t hash,
                               std::string_view value, bool patch) {
  SLUICE_RETURN_IF_ERROR(CheckOwned(ks, hash));
  // By KeyRef: the tables reuse the hash instead of hashing the key again. A key not held yet is
  // kept as its entry's bytes (lazy restore); a held one is decoded, and takes this entry as a
  // patch over its state.
  const KeyRef ref{key, hash, false};
  auto it = tables_[ks].find(ref);
  if (it == tables_[ks].end()) {
    // Kept after the key's kept entries, if any; a key with too long a chain of them, or an
    // entry too long for the length field, is decoded now (this entry included, below).
    const bool keep = value.size() < PendingStates::kMaxValue;
    if (keep && pending_.Add(ks, ref, value, patch) <= PendingStates::kMaxChain)
      return core::Status::Ok();
    KeyStatePtr st(KeyState::Create(layouts_[ks]));
    bool malformed = false;
    pending_.Take(ks, ref,
                  [&](const PendingStates::Entry& e) { malformed = !Decode(st.get(), e); });
    if (malformed) return Malformed(ks);
    it = tables_[ks].emplace(std::string(key), std::move(st)).first;
    if (keep) return core::Status::Ok();  // this entry was the chain's last
  }
  if (!Decode(it->second.get(), value)) {
    tables_[ks].erase(it);
    return Malformed(ks);
  }
  return core::Status::Ok();
}

core::Status Shard::MaterializeAll() {
  core::Status status;
  for (size_t ks = 0; ks < tables_.size(); ++ks) {
    auto& table = tables_[ks];
    table.reserve(table.size() + pending_.size(static_cast<int>(ks)));
    pending_.TakeAll(static_cast<int>(ks), [&](const PendingStates::Entry& e) {
      KeyStatePtr st(KeyState::Create(layouts_[ks]));
      if (!Decode(st.get(), e)) {
        if (status.ok()) status = Malformed(static_cast<int>(ks));
        return;
      }
      table.emplace(std::string(e.key), std::move(st));
    });
  }
  return status;
}

int64_t Shard::pending_keys() const {
  int64_t n = 0;
  for (size_t ks = 0; ks < tables_.size(); ++ks) n += pending_.size(static_cast<int>(ks));
  return n;
}

size_t Shard::EventBytes() const {
  size_t n = 0;
  for (const auto& t : tables_) {
    for (const auto& kv : t) {
      for (size_t g = 0; g < kv.second->group_count(); ++g) n += kv.second->group(g)->EventBytes();
    }
  }
  return n;
}

int64_t Shard::keys() const {
  int64_t n = 0;
  for (const auto& t : tables_) n += static_cast<int64_t>(t.size());
  return n + pending_keys();
}

}  // namespace sluice::features
