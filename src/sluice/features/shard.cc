#include "sluice/features/shard.h"

#include <cmath>
#include <limits>

namespace sluice::features {

namespace {

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

// The feature's value from its group's partial (with or without the current event).
double Finish(const GroupDef& g, const GroupFeature& f, const double* p, int64_t time_us) {
  using spec::AggKind;
  const double* q = p + g.ops.ops()[f.op].offset;
  switch (f.agg) {
    case AggKind::kCount: case AggKind::kSum: return q[0];
    case AggKind::kMean: return q[0] > 0 ? q[1] / q[0] : kNull;
    case AggKind::kVar: return q[0] >= 2 ? std::fmax(0.0, q[2] / (q[0] - 1)) : kNull;
    case AggKind::kStddev: return q[0] >= 2 ? std::sqrt(std::fmax(0.0, q[2] / (q[0] - 1))) : kNull;
    case AggKind::kMin: case AggKind::kMax: return q[0];
    case AggKind::kFirst: case AggKind::kLast: return q[1];
    case AggKind::kEwma: return q[1] > 0 ? q[0] / q[1] : kNull;
    case AggKind::kTimeSinceLast:
      return std::isinf(q[0]) ? kNull : (static_cast<double>(time_us) - q[0]) / 1e6;
    default: return kNull;
  }
}

}  // namespace

struct Shard::KeyState {
  int64_t newest = 0;
  std::unique_ptr<std::unique_ptr<WindowState>[]> groups;
};

Shard::Shard(const CompiledFeatures& cf, int id, int num_shards)
    : cf_(cf), id_(id), num_shards_(num_shards), tables_(cf.key_spaces.size()) {
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
  tokens_.resize(distinct + 1);
  distinct_count_.resize(distinct + 1);
  distinct_has_ = std::make_unique<bool[]>(distinct + 1);
  scratch_.partial.resize(width + 1);
  scratch_.sets.resize(distinct);
}

Shard::~Shard() = default;

Shard::KeyState* Shard::Lookup(int ks, const KeyRef& key, bool reset) {
  auto& table = tables_[ks];
  auto it = table.find(key);
  if (it == table.end()) it = table.emplace(std::string(key.bytes), nullptr).first;
  std::unique_ptr<KeyState>& st = it->second;
  if (!st || reset) {
    const auto& groups = cf_.key_spaces[ks].groups;
    st = std::make_unique<KeyState>();
    st->groups = std::make_unique<std::unique_ptr<WindowState>[]>(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) st->groups[g] = MakeWindowState(groups[g], cf_.lateness_us);
  }
  return st.get();
}

void Shard::Apply(int64_t time_us, int64_t seq, const core::Value* fields, const KeyRef* keys,
                  const uint8_t* flags, double* row) {
  for (size_t k = 0; k < cf_.key_spaces.size(); ++k) {
    const KeySpaceDef& ks = cf_.key_spaces[k];
    if (keys[k].null) {
      if (id_ != 0) continue;  // one shard writes the nulls, so no two threads touch one cell
      for (const auto& g : ks.groups) {
        for (const auto& f : g.features) row[f.feature] = kNull;
      }
      continue;
    }
    if (OwnerShard(keys[k].hash, num_shards_) != id_) continue;
    KeyState* st = Lookup(static_cast<int>(k), keys[k], flags[k] & kKeyReset);
    const bool in_order = flags[k] & kKeyInOrder;
    if (in_order) st->newest = time_us;
    for (size_t g = 0; g < ks.groups.size(); ++g) {
      ApplyGroup(ks.groups[g], st->groups[g].get(), time_us, seq, fields, in_order, st->newest, row);
    }
  }
}

void Shard::ApplyGroup(const GroupDef& g, WindowState* state, int64_t time_us, int64_t seq,
                       const core::Value* fields, bool in_order, int64_t newest, double* row) {
  for (const ColumnDef& c : g.columns) {
    const core::Value& v = fields[c.field];
    switch (c.kind) {
      case ColumnDef::Kind::kNumber: slots_[c.slot].d = v.AsDouble(); break;
      case ColumnDef::Kind::kPresence: slots_[c.slot].d = v.is_null() ? kNull : 1.0; break;
      case ColumnDef::Kind::kToken: {
        Token t = v.kind == core::Value::Kind::kString ? StringToken(v.s)
                  : v.kind == core::Value::Kind::kInt  ? IntToken(v.i)
                                                       : Token{};
        slots_[c.slot].u = t.a;
        slots_[c.slot + 1].u = t.b;
      }
    }
  }
  for (size_t d = 0; d < g.distinct.size(); ++d) tokens_[d] = ColumnToken(g.distinct[d], slots_.data());
  EventIn in{time_us, seq, slots_.data(), tokens_.data(), in_order, newest};
  WindowOut out{excl_.data(), distinct_count_.data(), distinct_has_.get()};
  state->Apply(in, &scratch_, &out);
  if (g.any_included && !g.ops.empty()) {
    for (int i = 0; i < g.ops.width(); ++i) incl_[i] = excl_[i];
    g.ops.Add(incl_.data(), time_us, seq, slots_.data(), scratch_.partial.data());
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

void Shard::Sweep(int64_t stream_time) {
  for (auto& table : tables_) {
    absl::erase_if(table, [&](const auto& kv) { return Evictable(kv.second->newest, stream_time, cf_.ttl_us); });
  }
}

int64_t Shard::keys() const {
  int64_t n = 0;
  for (const auto& t : tables_) n += static_cast<int64_t>(t.size());
  return n;
}

}  // namespace sluice::features
