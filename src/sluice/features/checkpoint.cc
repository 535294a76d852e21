#include "sluice/features/checkpoint.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace sluice::features {

namespace {

constexpr char kMagic[4] = {'S', 'L', 'S', 'T'};

void DescribeGroup(const GroupDef& g, StateWriter* w) {
  w->U8(static_cast<uint8_t>(g.kind));
  w->I64(g.window_us);
  w->I64(g.resolution_us);
  w->I64(g.rows);
  w->U32(static_cast<uint32_t>(g.num_slots));
  auto columns = [&](const std::vector<ColumnDef>& cs) {
    w->U32(static_cast<uint32_t>(cs.size()));
    for (const ColumnDef& c : cs) {
      w->U8(static_cast<uint8_t>(c.kind));
      w->U32(static_cast<uint32_t>(c.field));
      w->U32(static_cast<uint32_t>(c.slot));
    }
  };
  columns(g.columns);
  columns(g.distinct);
  w->U32(static_cast<uint32_t>(g.ops.ops().size()));
  for (const Op& op : g.ops.ops()) {
    w->U8(static_cast<uint8_t>(op.kind));
    w->U32(static_cast<uint32_t>(op.slot));
    w->U32(static_cast<uint32_t>(op.offset));
    w->F64(op.half_life_us);
  }
}

}  // namespace

uint64_t LayoutFingerprint(const CompiledFeatures& cf) {
  std::string desc;
  StateWriter w(&desc);
  w.I64(cf.lateness_us);
  w.I64(cf.ttl_us);
  w.U32(static_cast<uint32_t>(cf.key_spaces.size()));
  for (const KeySpaceDef& ks : cf.key_spaces) {
    w.Bytes(ks.name);
    w.U32(static_cast<uint32_t>(ks.fields.size()));
    for (int f : ks.fields) w.U32(static_cast<uint32_t>(f));
    w.U32(static_cast<uint32_t>(ks.groups.size()));
    for (const GroupDef& g : ks.groups) DescribeGroup(g, &w);
  }
  w.Flush();
  return XXH3_64bits(desc.data(), desc.size());
}

std::string SaveHeader(const CompiledFeatures& cf, const Admission& admission) {
  std::string out;
  StateWriter w(&out);
  w.Raw(kMagic, 4);
  w.U32(kStateFormatVersion);
  w.U64(LayoutFingerprint(cf));
  w.U32(static_cast<uint32_t>(cf.key_spaces.size()));
  admission.SaveHeader(&w);
  w.Flush();
  return out;
}

SavePlan::SavePlan(Admission* admission, std::vector<Shard*> shards, bool delta, int parts)
    : admission_(admission),
      shards_(std::move(shards)),
      delta_(delta),
      parts_(std::clamp(parts, 1, 1024)),
      delta_seq_(admission->delta_seq() + 1) {}

core::Status SavePlan::Run(int task, StateSink* sink) {
  if (task < 0 || task >= tasks()) return core::Status::Internal("SavePlan: no such task");
  if (task == 0) return delta_ ? admission_->SaveChanges(sink) : admission_->SaveKeys(sink);
  Shard* shard = shards_[static_cast<size_t>((task - 1) / parts_)];
  const int part = (task - 1) % parts_;
  return delta_ ? shard->SaveChangesPart(sink, delta_seq_, part, parts_)
                : shard->SaveKeysPart(sink, part, parts_);
}

core::Status SavePlan::End() {
  if (delta_ && admission_->delta_seq() != delta_seq_)
    return core::Status::Internal("SavePlan: admission's delta was not saved");
  for (Shard* s : shards_) s->EndSave();
  return core::Status::Ok();
}

namespace {

core::Status SaveAll(Admission* admission, const std::vector<Shard*>& shards, bool delta,
                     StateSink* sink) {
  SavePlan plan(admission, shards, delta, 1);
  for (int t = 0; t < plan.tasks(); ++t) SLUICE_RETURN_IF_ERROR(plan.Run(t, sink));
  return plan.End();
}

}  // namespace

core::Status SaveState(Admission* admission, const std::vector<Shard*>& shards, StateSink* sink) {
  return SaveAll(admission, shards, false, sink);
}

core::Status SaveChanges(Admission* admission, const std::vector<Shard*>& shards, StateSink* sink) {
  return SaveAll(admission, shards, true, sink);
}

int64_t ChangedRecords(const Admission& admission, const std::vector<Shard*>& shards) {
  int64_t n = admission.changed_keys();
  for (const Shard* s : shards) n += s->changed_keys();
  return n;
}

StateRestorer::StateRestorer(const CompiledFeatures& cf, Admission* admission,
                             std::vector<Shard*> shards)
    : cf_(cf), admission_(admission), shards_(std::move(shards)) {}

StateRestorer::~StateRestorer() { UsePages(nullptr); }

void StateRestorer::UsePages(PrefaultedHugePages* pages) {
  for (Shard* s : shards_) s->UsePages(pages);
}

core::Status StateRestorer::Header(std::string_view header) {
  StateReader r(header);
  char magic[4];
  r.Raw(magic, 4);
  if (r.failed() || std::memcmp(magic, kMagic, 4) != 0)
    return core::Status::Corruption("not a Sluice state checkpoint (bad header magic)");
  const uint32_t version = r.U32();
  if (version < kOldestStateFormatRead || version > kStateFormatVersion) {
    return core::Status::InvalidArgument(
        "checkpoint state format version " + std::to_string(version) + ", this build reads " +
        std::to_string(kOldestStateFormatRead) + " to " + std::to_string(kStateFormatVersion) +
        ": restore refused; run the build that wrote it, or start with an empty state directory");
  }
  const uint64_t fp = r.U64(), mine = LayoutFingerprint(cf_);
  const uint32_t spaces = r.U32();
  if (fp != mine || spaces != cf_.key_spaces.size()) {
    return core::Status::InvalidArgument(
        "the checkpoint was taken with a different feature spec (layout fingerprint " +
        std::to_string(fp) + ", this spec's is " + std::to_string(mine) +
        "): restore refused; run with the spec it was taken with, or start without it");
  }
  if (!admission_->RestoreHeader(&r, version >= 5) || !r.done())
    return core::Status::Corruption("malformed checkpoint header");
  // The restored state is the checkpoint: changes from here on are what the next delta holds.
  admission_->TrackChanges();
  for (Shard* s : shards_) s->TrackChanges();
  header_ = true;
  return core::Status::Ok();
}

core::Status StateRestorer::Record(std::string_view key, std::string_view value) {
  if (!header_) return core::Status::Internal("checkpoint records restored before the header");
  if (key.size() < 2) return core::Status::Corruption("checkpoint record with a short key");
  const int ks = static_cast<uint8_t>(key[1]);
  switch (static_cast<RecordKind>(key[0])) {
    case RecordKind::kAdmission:
      return admission_->RestoreKeys(ks, value);
    case RecordKind::kAdmissionDelta:
      return admission_->RestoreDelta(ks, value);
    case RecordKind::kKeys:
    case RecordKind::kKeysDelta:
      return KeyChunk(ks, value, static_cast<RecordKind>(key[0]) == RecordKind::kKeysDelta);
  }
  return core::Status::Corruption("checkpoint record of unknown kind");
}

// A chunk of KeyChunkWriter entries: each key to the shard that owns it now.
core::Status StateRestorer::KeyChunk(int ks, std::string_view value, bool delta) {
  if (ks >= static_cast<int>(cf_.key_spaces.size()))
    return core::Status::Corruption("checkpoint record for unknown key space " +
                                    std::to_string(ks));
  KeyChunkReader chunk(value);
  const int num_shards = static_cast<int>(shards_.size());
  if (!delta) {
    // Each shard's table is sized for all its keys at its first chunk, so it does not grow by
    // rehashing (and first touching) tables of 1/2, 1/4, ... the size on the way: admission holds
    // every key, and its records, which sort first, are restored by now. The chunk's own size is
    // the fallback.
    const auto spread = [&](size_t n) { return n / shards_.size() + n / shards_.size() / 8 + 8; };
    const size_t per_shard = spread(chunk.size());
    const size_t total = spread(static_cast<size_t>(admission_->keys(ks)));
    for (Shard* shard : shards_) shard->Reserve(ks, per_shard, total);
  }
  std::string_view key, state;
  while (chunk.Next(&key, &state)) {
    if (state.empty() && !delta)  // a full checkpoint holds no tombstone
      return core::Status::Corruption("malformed checkpoint record of key states");
    const uint64_t hash = XXH3_64bits(key.data(), key.size());
    const int owner = OwnerShard(hash, num_shards);
    if (state.empty()) {
      SLUICE_RETURN_IF_ERROR(shards_[owner]->EraseKey(ks, key, hash));
      continue;
    }
    ++keys_;
    SLUICE_RETURN_IF_ERROR(shards_[owner]->RestoreKey(ks, key, hash, state, delta));
  }
  if (!chunk.done()) return core::Status::Corruption("malformed checkpoint record of key states");
  return core::Status::Ok();
}

}  // namespace sluice::features
