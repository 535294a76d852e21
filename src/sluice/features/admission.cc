#include "sluice/features/admission.h"

#include <cstring>
#include <limits>

namespace sluice::features {

namespace {
constexpr int64_t kNever = std::numeric_limits<int64_t>::min();

std::string FormatSeconds(int64_t us) { return core::FormatDuration(core::Duration::Micros(us)); }
}  // namespace

Admission::Admission(const CompiledFeatures& cf)
    : cf_(cf), newest_(cf.key_spaces.size()), found_(cf.key_spaces.size()), stream_time_(kNever) {}

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
    found_[k] = newest_[k].lazy_emplace(
        keys[k], [&](const auto& ctor) { ctor(std::string(keys[k].bytes), kNever); });
    if (found_[k]->second != kNever && t < found_[k]->second - cf_.lateness_us) {
      *detail = "late for key " + cf_.key_spaces[k].name + ": " +
                FormatSeconds(found_[k]->second - t) +
                " older than the key's newest event (allowed_lateness " +
                FormatSeconds(cf_.lateness_us) + ")";
      return core::Reason::kLate;
    }
  }
  for (size_t k = 0; k < n; ++k) {
    flags[k] = 0;
    if (keys[k].null) continue;
    int64_t& newest = found_[k]->second;
    if (newest == kNever || t - newest > cf_.ttl_us) {
      flags[k] = kKeyInOrder | kKeyReset;
      newest = t;
    } else if (t >= newest) {
      flags[k] = kKeyInOrder;
      newest = t;
    }
  }
  if (t > stream_time_) stream_time_ = t;
  // Sweeping costs a pass over the keys: do it when the stream has moved on by half a TTL.
  if (stream_time_ - last_sweep_ >= cf_.ttl_us / 2) MaybeSweep();
  return core::Reason::kNone;
}

void Admission::MaybeSweep() {
  last_sweep_ = stream_time_;
  for (auto& m : newest_) {
    absl::erase_if(m,
                   [&](const auto& kv) { return Evictable(kv.second, stream_time_, cf_.ttl_us); });
  }
}

void Admission::SaveHeader(StateWriter* w) const {
  w->I64(stream_time_);
  w->I64(last_sweep_);
}

bool Admission::RestoreHeader(StateReader* r) {
  stream_time_ = r->I64();
  last_sweep_ = r->I64();
  return !r->failed();
}

core::Status Admission::SaveKeys(StateSink* sink) const {
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
    for (const auto& [bytes, newest] : newest_[ks]) {
      StateWriter w(&value);
      w.Bytes(bytes);
      w.I64(newest);
      if (++n == kKeysPerRecord) SLUICE_RETURN_IF_ERROR(flush());
    }
    if (n > 0) SLUICE_RETURN_IF_ERROR(flush());
  }
  return core::Status::Ok();
}

core::Status Admission::RestoreKeys(int ks, std::string_view value) {
  if (ks < 0 || ks >= static_cast<int>(newest_.size()))
    return core::Status::Corruption("checkpoint record for unknown key space " +
                                    std::to_string(ks));
  StateReader r(value);
  const uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    std::string_view key = r.Bytes();
    const int64_t newest = r.I64();
    if (!r.failed()) newest_[ks].insert_or_assign(std::string(key), newest);
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
