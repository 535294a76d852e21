#include "sluice/features/admission.h"

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace sluice::features {

namespace {
constexpr int64_t kNever = std::numeric_limits<int64_t>::min();

std::string FormatSeconds(int64_t us) { return core::FormatDuration(core::Duration::Micros(us)); }
}  // namespace

Admission::Admission(const CompiledFeatures& cf)
    : cf_(cf),
      newest_(cf.key_spaces.size()),
      found_(cf.key_spaces.size()),
      changed_(cf.key_spaces.size()),
      stream_time_(kNever) {}

constexpr uint32_t kEvictedBit = uint32_t{1} << 31;

void Admission::NoteChanged(size_t ks, std::string_view key, Entry* e) {
  std::string& list = changed_[ks];
  const int64_t newest = e ? e->newest : kNever;
  const uint32_t n = static_cast<uint32_t>(key.size()) | (e ? 0 : kEvictedBit);
  if (e) {
    e->tag = epoch_;
    e->listed_at = static_cast<uint32_t>(list.size() / 8);
  }
  list.append(reinterpret_cast<const char*>(&newest), 8);
  list.append(reinterpret_cast<const char*>(&n), 4);
  list.append(key);
  list.resize((list.size() + 7) & ~size_t{7});
  ++changed_count_;
}

void Admission::NextEpoch() {
  for (std::string& list : changed_) list.clear();
  changed_count_ = 0;
  epoch_ = epoch_ == std::numeric_limits<uint32_t>::max() ? 1 : epoch_ + 1;
}

core::Reason Admission::Admit(int64_t t, const KeyRef* keys, uint8_t* flags, std::string* detail) {
  const size_t n = newest_.size();
  // Expiry first: whether a key's state is still in memory must not change the reason.
  if (stream_time_ != kNever && t < stream_time_ - cf_.ttl_us) {
    *detail = FormatSeconds(stream_time_ - t) +
              " older than the stream's newest event (state_ttl " + FormatSeconds(cf_.ttl_us) + ")";
    return core::Reason::kExpired;
  }
  for (size_t k = 0; k < n; ++k) {
    if (keys[k].null) continue;
    // One probe per key: a new key is inserted right away as "never seen" (kNever), which is
    // what it stays if this event turns out late for another key.
    bool added = false;
    found_[k] = newest_[k].lazy_emplace(keys[k], [&](const auto& ctor) {
      ctor(std::string(keys[k].bytes), Entry{kNever, 0, 0});
      added = true;
    });
    if (added && tracking_) NoteChanged(k, keys[k].bytes, &found_[k]->second);
    const int64_t seen = found_[k]->second.newest;
    if (seen != kNever && t < seen - cf_.lateness_us) {
      *detail = "late for key " + cf_.key_spaces[k].name + ": " + FormatSeconds(seen - t) +
                " older than the key's newest event (allowed_lateness " +
                FormatSeconds(cf_.lateness_us) + ")";
      return core::Reason::kLate;
    }
  }
  for (size_t k = 0; k < n; ++k) {
    flags[k] = 0;
    if (keys[k].null) continue;
    Entry& e = found_[k]->second;
    if (e.newest == kNever || t - e.newest > cf_.ttl_us) {
      flags[k] = kKeyInOrder | kKeyReset;
    } else if (t >= e.newest) {
      flags[k] = kKeyInOrder;
    } else {
      continue;
    }
    e.newest = t;
    if (!tracking_) continue;
    if (e.tag == epoch_) {
      std::memcpy(changed_[k].data() + size_t{e.listed_at} * 8, &t, 8);
    } else {
      NoteChanged(k, keys[k].bytes, &e);
    }
  }
  if (t > stream_time_) stream_time_ = t;
  // Sweeping costs a pass over the keys: do it when the stream has moved on by half a TTL.
  if (stream_time_ - last_sweep_ >= cf_.ttl_us / 2) MaybeSweep();
  return core::Reason::kNone;
}

void Admission::MaybeSweep() {
  last_sweep_ = stream_time_;
  for (size_t ks = 0; ks < newest_.size(); ++ks) {
    absl::erase_if(newest_[ks], [&](const auto& kv) {
      if (!Evictable(kv.second.newest, stream_time_, cf_.ttl_us)) return false;
      if (!tracking_) return true;
      if (kv.second.tag == epoch_) {  // its entry becomes a tombstone
        uint32_t n;
        char* at = changed_[ks].data() + size_t{kv.second.listed_at} * 8 + 8;
        std::memcpy(&n, at, 4);
        n |= kEvictedBit;
        std::memcpy(at, &n, 4);
      } else {
        NoteChanged(ks, kv.first, nullptr);
      }
      return true;
    });
  }
}

void Admission::SaveHeader(StateWriter* w) const {
  w->I64(stream_time_);
  w->I64(last_sweep_);
  w->U64(delta_seq_);
  for (const auto& m : newest_) w->Var(m.size());
}

bool Admission::RestoreHeader(StateReader* r, bool key_counts) {
  stream_time_ = r->I64();
  last_sweep_ = r->I64();
  delta_seq_ = r->U64();
  // Each key space's key count (format 5 on): its table is sized once rather than grown by
  // rehashing through tables of 1/2, 1/4, ... the size. A hint only: a corrupted count sizes a
  // table wrongly (up to kMaxReserve), and the restored keys are what they are.
  constexpr uint64_t kMaxReserve = uint64_t{1} << 26;
  for (size_t ks = 0; key_counts && ks < newest_.size(); ++ks) {
    const uint64_t n = r->Var();
    if (!r->failed()) newest_[ks].reserve(static_cast<size_t>(std::min(n, kMaxReserve)));
  }
  return !r->failed();
}

core::Status Admission::SaveKeys(StateSink* sink) {
  tracking_ = true;
  for (size_t ks = 0; ks < newest_.size(); ++ks) {
    std::string prefix;
    AppendRecordKey(RecordKind::kAdmission, static_cast<int>(ks), {}, &prefix);
    KeyChunkWriter chunks(sink, std::move(prefix));
    for (auto& [bytes, e] : newest_[ks]) {
      const int64_t newest = e.newest;
      SLUICE_RETURN_IF_ERROR(chunks.Add(bytes, [&](StateWriter* w) { w->SVar(newest); }));
    }
    SLUICE_RETURN_IF_ERROR(chunks.Finish());
  }
  NextEpoch();  // nothing is changed: no entry carries the new tag
  return core::Status::Ok();
}

// As Shard::SaveChangesPart: each listed key with its newest time, or as a tombstone when it was
// evicted (it cannot be deleted from the full chunk that holds it). The list holds the times
// (Admit keeps them up to date), so a save reads it front to back and never the table.
core::Status Admission::SaveChanges(StateSink* sink) {
  if (!tracking_) return core::Status::Internal("no change set to save: save or restore first");
  return WriteChanges(TakeChanges(), sink);
}

const Admission::Changes& Admission::TakeChanges() {
  tracking_ = true;
  taken_.delta_seq = ++delta_seq_;
  taken_.lists.resize(changed_.size());
  for (size_t ks = 0; ks < changed_.size(); ++ks) {
    taken_.lists[ks].clear();
    taken_.lists[ks].swap(changed_[ks]);  // warm memory for the next change set
  }
  NextEpoch();
  return taken_;
}

core::Status Admission::WriteChanges(const Changes& changes, StateSink* sink) {
  absl::flat_hash_set<std::string_view> deleted;
  for (size_t ks = 0; ks < changes.lists.size(); ++ks) {
    std::string prefix;
    AppendRecordKey(RecordKind::kAdmissionDelta, static_cast<int>(ks), {}, &prefix);
    AppendBigEndian(changes.delta_seq, 8, &prefix);  // later deltas sort later
    KeyChunkWriter chunks(sink, std::move(prefix));
    const std::string& list = changes.lists[ks];
    deleted.clear();
    for (size_t pos = 0; pos < list.size();) {
      int64_t newest;
      uint32_t n;
      std::memcpy(&newest, list.data() + pos, 8);
      std::memcpy(&n, list.data() + pos + 8, 4);
      const std::string_view key(list.data() + pos + 12, n & ~kEvictedBit);
      pos += (12 + key.size() + 7) & ~size_t{7};
      if (n & kEvictedBit) {
        if (deleted.insert(key).second) SLUICE_RETURN_IF_ERROR(chunks.Tombstone(key));
      } else {
        SLUICE_RETURN_IF_ERROR(chunks.Add(key, [&](StateWriter* w) { w->SVar(newest); }));
      }
    }
    SLUICE_RETURN_IF_ERROR(chunks.Finish());
  }
  return core::Status::Ok();
}

core::Status Admission::RestoreKeys(int ks, std::string_view value) {
  return RestoreChunk(ks, value, /*delta=*/false);
}

core::Status Admission::RestoreDelta(int ks, std::string_view value) {
  return RestoreChunk(ks, value, /*delta=*/true);
}

// A chunk of (key, newest time) entries; a tombstone (deltas only) drops the key.
core::Status Admission::RestoreChunk(int ks, std::string_view value, bool delta) {
  if (ks < 0 || ks >= static_cast<int>(newest_.size()))
    return core::Status::Corruption("checkpoint record for unknown key space " +
                                    std::to_string(ks));
  KeyChunkReader chunk(value);
  if (!delta) newest_[ks].reserve(newest_[ks].size() + chunk.size());
  std::string_view key, state;
  bool ok = true;
  while (ok && chunk.Next(&key, &state)) {
    if (state.empty()) {
      ok = delta;  // a full checkpoint holds no tombstone
      newest_[ks].erase(key);
      continue;
    }
    StateReader r(state);
    const int64_t newest = r.SVar();
    ok = r.done();
    if (ok) newest_[ks].insert_or_assign(std::string(key), Entry{newest, 0, 0});
  }
  if (!ok || !chunk.done())
    return core::Status::Corruption("malformed checkpoint record of admission");
  return core::Status::Ok();
}

int64_t Admission::keys(int ks) const {
  return ks >= 0 && ks < static_cast<int>(newest_.size()) ? static_cast<int64_t>(newest_[ks].size())
                                                          : 0;
}

int64_t Admission::keys() const {
  int64_t n = 0;
  for (const auto& m : newest_) n += static_cast<int64_t>(m.size());
  return n;
}

}  // namespace sluice::features
