#include "sluice/features/admission.h"

#include <absl/container/flat_hash_set.h>

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

void Admission::NoteChanged(size_t ks, std::string_view key) {
  const uint32_t n = static_cast<uint32_t>(key.size());
  changed_[ks].append(reinterpret_cast<const char*>(&n), 4);
  changed_[ks].append(key);
  ++changed_count_;
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
    found_[k] = newest_[k].lazy_emplace(keys[k], [&](const auto& ctor) {
      ctor(std::string(keys[k].bytes), Entry{kNever, true});
      NoteChanged(k, keys[k].bytes);
    });
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
    if (!e.changed) {
      e.changed = true;
      NoteChanged(k, keys[k].bytes);
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
      if (!kv.second.changed) NoteChanged(ks, kv.first);  // a tombstone at the next save
      return true;
    });
  }
}

void Admission::SaveHeader(StateWriter* w) const {
  w->I64(stream_time_);
  w->I64(last_sweep_);
  w->U64(delta_seq_);
}

bool Admission::RestoreHeader(StateReader* r) {
  stream_time_ = r->I64();
  last_sweep_ = r->I64();
  delta_seq_ = r->U64();
  return !r->failed();
}

core::Status Admission::SaveKeys(StateSink* sink) {
  std::string key, value;
  for (size_t ks = 0; ks < newest_.size(); ++ks) {
    uint32_t chunk = 0, n = 0;
    value.assign(4, '\0');  // the key count, filled in by flush
    auto flush = [&]() {
      std::memcpy(value.data(), &n, 4);
      key.clear();
      const uint32_t big_endian = __builtin_bswap32(chunk++);  // records sort in chunk order
      AppendRecordKey(RecordKind::kAdmission, static_cast<int>(ks),
                      std::string_view(reinterpret_cast<const char*>(&big_endian), 4), &key);
      core::Status s = sink->Put(key, value);
      value.assign(4, '\0');
      n = 0;
      return s;
    };
    for (auto& [bytes, e] : newest_[ks]) {
      StateWriter w(&value);
      w.Var(bytes.size());
      w.Raw(bytes.data(), bytes.size());
      w.SVar(e.newest);
      e.changed = false;
      if (++n == kKeysPerRecord) SLUICE_RETURN_IF_ERROR(flush());
    }
    if (n > 0) SLUICE_RETURN_IF_ERROR(flush());
    changed_[ks].clear();
  }
  changed_count_ = 0;
  return core::Status::Ok();
}

// As Shard::SaveChanges, in chunks: per key (var length, key bytes, u8 present, svar newest when
// present). An evicted key cannot be deleted from the full chunk that holds it: "absent" says it.
core::Status Admission::SaveChanges(StateSink* sink) {
  ++delta_seq_;
  std::string key, value;
  absl::flat_hash_set<std::string_view> deleted;
  for (size_t ks = 0; ks < newest_.size(); ++ks) {
    const std::string& list = changed_[ks];
    deleted.clear();
    uint32_t chunk = 0, n = 0;
    value.assign(4, '\0');
    auto flush = [&]() {
      std::memcpy(value.data(), &n, 4);
      char id[12];
      const uint64_t seq = __builtin_bswap64(delta_seq_);  // big-endian: later deltas sort later
      const uint32_t c = __builtin_bswap32(chunk++);
      std::memcpy(id, &seq, 8);
      std::memcpy(id + 8, &c, 4);
      key.clear();
      AppendRecordKey(RecordKind::kAdmissionDelta, static_cast<int>(ks), std::string_view(id, 12),
                      &key);
      core::Status s = sink->Put(key, value);
      value.assign(4, '\0');
      n = 0;
      return s;
    };
    for (size_t pos = 0; pos + 4 <= list.size();) {
      uint32_t len;
      std::memcpy(&len, list.data() + pos, 4);
      const std::string_view bytes(list.data() + pos + 4, len);
      pos += 4 + len;
      auto it = newest_[ks].find(bytes);
      const bool present = it != newest_[ks].end();
      if (present ? !it->second.changed : !deleted.insert(bytes).second) continue;  // written
      StateWriter w(&value);
      w.Var(bytes.size());
      w.Raw(bytes.data(), bytes.size());
      w.U8(present ? 1 : 0);
      if (present) {
        it->second.changed = false;
        w.SVar(it->second.newest);
      }
      if (++n == kKeysPerRecord) SLUICE_RETURN_IF_ERROR(flush());
    }
    if (n > 0) SLUICE_RETURN_IF_ERROR(flush());
    changed_[ks].clear();
  }
  changed_count_ = 0;
  return core::Status::Ok();
}

core::Status Admission::RestoreKeys(int ks, std::string_view value) {
  return RestoreChunk(ks, value, /*delta=*/false);
}

core::Status Admission::RestoreDelta(int ks, std::string_view value) {
  return RestoreChunk(ks, value, /*delta=*/true);
}

// A chunk of (key, newest time) pairs; in a delta each pair has a presence byte first, and an
// absent key (evicted since the last checkpoint) is a tombstone.
core::Status Admission::RestoreChunk(int ks, std::string_view value, bool delta) {
  if (ks < 0 || ks >= static_cast<int>(newest_.size()))
    return core::Status::Corruption("checkpoint record for unknown key space " +
                                    std::to_string(ks));
  StateReader r(value);
  const uint32_t n = r.U32();
  if (n > r.remaining() / 2) r.Fail();
  if (!delta) newest_[ks].reserve(newest_[ks].size() + (r.failed() ? 0 : n));
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    const std::string_view key = r.Take(r.VarCount(1));
    const uint8_t present = delta ? r.U8() : 1;
    if (present > 1) r.Fail();
    if (r.failed()) break;
    if (present) {
      const int64_t newest = r.SVar();
      if (!r.failed()) newest_[ks].insert_or_assign(std::string(key), Entry{newest, false});
    } else {
      newest_[ks].erase(key);
    }
  }
  if (!r.done()) return core::Status::Corruption("malformed checkpoint record of admission");
  return core::Status::Ok();
}

int64_t Admission::keys() const {
  int64_t n = 0;
  for (const auto& m : newest_) n += static_cast<int64_t>(m.size());
  return n;
}

}  // namespace sluice::features
