// Fuzzes features::StateRestorer, the reader of checkpointed keyed state (docs/checkpoints.md):
// the bytes a restarted engine trusts least, since they come back from disk. A real checkpoint
// (a full save and a delta over it, of every window kind, two key spaces) is built once; the
// input either mutates its records (byte flips and truncations) or replaces them with records of
// its own. Restore must end in a Status, never a crash or UB; a state it accepts must then take
// more events, and save and restore again (an accepted state that cannot round-trip is a bug).
// Restore is lazy (a key's entry is decoded when the key is first used): a malformed entry may
// pass it and be found later, by Shard::MaterializeAll, by an event (Shard::error) or by a save
// that decodes it; each must be a Corruption with a message, never a crash.
//
// Input: byte 0: bits 0-1 shard count − 1 (0..2 → 1..3 shards), bit 2 raw records, bit 3 decode
// every restored key at once (MaterializeAll) rather than as events use them.
//   mutate (bit 2 clear): 5-byte edits: u16 record index, u16 offset, u8 x — x != 0 flips the
//     value's byte at offset with x, x == 0 cuts the value there;
//   raw (bit 2 set): records: u8 kind, u8 key space, u16 value length, value bytes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/features/admission.h"
#include "sluice/features/checkpoint.h"
#include "sluice/features/compiled.h"
#include "sluice/features/keys.h"
#include "sluice/features/shard.h"
#include "sluice/io/arena.h"
#include "sluice/spec/pipeline.h"

namespace {

using namespace sluice;  // NOLINT: a fuzz target's one translation unit

void Fail(const char* what) {
  std::fprintf(stderr, "checkpoint_state_fuzzer: %s\n", what);
  std::abort();
}

constexpr char kSpec[] = R"Y(name: fuzz
event_time: {field: ts, unit: s}
allowed_lateness: 1m
state_ttl: 1h
fields: {user: string, merchant: string, amount: double}
features:
  - {name: t_cnt, agg: count, key: user, window: 5m}
  - {name: t_var, agg: var, of: amount, key: user, window: 5m}
  - {name: t_dist, agg: count_distinct, of: merchant, key: user, window: 5m}
  - {name: b_mean, agg: mean, of: amount, key: user, window: 30m, resolution: 5m}
  - {name: b_dist, agg: count_distinct, of: merchant, key: user, window: 30m, resolution: 5m}
  - {name: r_max, agg: max, of: amount, key: user, rows: 4}
  - {name: u_sum, agg: sum, of: amount, key: user}
  - {name: u_ewma, agg: ewma, of: amount, half_life: 5m, key: user}
  - {name: p_sum, agg: sum, of: amount, key: [user, merchant], window: 10m}
)Y";

struct Engine {
  Engine(const features::CompiledFeatures& cf, int shards) : cf(cf), admission(cf) {
    for (int i = 0; i < shards; ++i)
      this->shards.push_back(std::make_unique<features::Shard>(cf, i, shards));
  }
  std::vector<features::Shard*> ptrs() {
    std::vector<features::Shard*> p;
    for (auto& s : shards) p.push_back(s.get());
    return p;
  }
  // Event i of a fixed stream: 7 users, 4 merchants, mostly in order, some late, a TTL gap.
  void Apply(int64_t i) {
    const spec::Pipeline& p = *cf.pipeline;
    std::vector<core::Value> v(p.schema.size());
    const std::string user = "u" + std::to_string(i * 7919 % 7);
    const std::string merchant = "m" + std::to_string(i * 104729 % 4);
    const int64_t t = 1'700'000'000 + i * 23 - (i % 9 == 0 ? 50 : 0) + (i > 150 ? 7200 : 0);
    v[p.schema.Find("user")] = core::Value::String(user);
    if (i % 5 != 0) v[p.schema.Find("merchant")] = core::Value::String(merchant);
    v[p.schema.Find("amount")] = core::Value::Double(static_cast<double>(i % 13) * 1.5);
    v[p.schema.Find("ts")] = core::Value::Int(t);
    const size_t nk = cf.key_spaces.size();
    std::vector<features::KeyRef> keys(nk);
    std::vector<uint8_t> flags(nk);
    arena.Reset();
    for (size_t k = 0; k < nk; ++k)
      keys[k] = features::EncodeKey(cf.key_spaces[k], v.data(), &arena);
    std::string detail;
    if (admission.Admit(t * 1'000'000, keys.data(), flags.data(), &detail) != core::Reason::kNone)
      return;
    std::vector<double> out(cf.num_features);
    for (auto& s : shards)
      s->Apply({t * 1'000'000, i, v.data(), keys.data(), flags.data()}, out.data());
    if (i % 40 == 0) {
      for (auto& s : shards) s->Sweep(admission.stream_time());
    }
  }
  const features::CompiledFeatures& cf;
  features::Admission admission;
  std::vector<std::unique_ptr<features::Shard>> shards;
  io::StringArena arena;
};

class MapSink : public features::StateSink {
 public:
  core::Status Put(std::string_view key, std::string_view value) override {
    records[std::string(key)] = std::string(value);
    return core::Status::Ok();
  }
  core::Status Delete(std::string_view key) override {
    records.erase(std::string(key));
    return core::Status::Ok();
  }
  std::map<std::string, std::string> records;
};

struct Checkpoint {
  std::string header;
  std::map<std::string, std::string> records;
};

core::Status Restore(const Checkpoint& c, Engine* e) {
  features::StateRestorer r(e->cf, &e->admission, e->ptrs());
  core::Status s = r.Header(c.header);
  for (auto it = c.records.begin(); s.ok() && it != c.records.end(); ++it)
    s = r.Record(it->first, it->second);
  return s;
}

struct Fixture {
  Fixture() {
    pipeline = std::make_unique<spec::Pipeline>(spec::ParsePipeline(kSpec, "fuzz.yaml").value());
    cf = features::Compile(*pipeline).value();
    Engine e(*cf, 2);
    for (int64_t i = 0; i < 120; ++i) e.Apply(i);
    MapSink sink;
    if (!features::SaveState(&e.admission, e.ptrs(), &sink).ok()) Fail("save");
    for (int64_t i = 120; i < 190; ++i) e.Apply(i);
    if (!features::SaveChanges(&e.admission, e.ptrs(), &sink).ok()) Fail("delta");
    base.header = features::SaveHeader(*cf, e.admission);
    base.records = sink.records;
    Engine check(*cf, 1);
    if (!Restore(base, &check).ok()) Fail("the fixture's own checkpoint does not restore");
  }
  std::unique_ptr<spec::Pipeline> pipeline;
  std::unique_ptr<features::CompiledFeatures> cf;
  Checkpoint base;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* fx = new Fixture();
  if (size == 0) return 0;
  const int shards = 1 + (data[0] & 3) % 3;
  Checkpoint c;
  c.header = fx->base.header;
  size_t pos = 1;
  if (data[0] & 4) {
    uint32_t n = 0;
    while (pos + 4 <= size) {
      const uint16_t len = static_cast<uint16_t>(data[pos + 2] | data[pos + 3] << 8);
      std::string key{static_cast<char>(data[pos]), static_cast<char>(data[pos + 1])};
      for (int b = 3; b >= 0; --b) key.push_back(static_cast<char>(n >> (8 * b)));
      ++n;
      pos += 4;
      const size_t take = std::min<size_t>(len, size - pos);
      c.records[key] = std::string(reinterpret_cast<const char*>(data + pos), take);
      pos += take;
    }
  } else {
    c.records = fx->base.records;
    std::vector<std::string*> values;
    for (auto& [k, v] : c.records) values.push_back(&v);
    for (; pos + 5 <= size; pos += 5) {
      std::string& v = *values[(data[pos] | data[pos + 1] << 8) % values.size()];
      const size_t off = (data[pos + 2] | data[pos + 3] << 8) % (v.size() + 1);
      if (data[pos + 4] == 0) {
        v.resize(off);
      } else if (off < v.size()) {
        v[off] = static_cast<char>(v[off] ^ data[pos + 4]);
      }
    }
  }
  Engine e(*fx->cf, shards);
  // A refusal, now or when a kept entry is decoded, is a Corruption (or, for the header, an
  // InvalidArgument) with a message.
  auto refused = [](const core::Status& st) {
    if (st.ok()) return false;
    if (st.message().empty()) Fail("a refused checkpoint without a message");
    return true;
  };
  if (refused(Restore(c, &e))) return 0;
  if (data[0] & 8) {
    for (features::Shard* sh : e.ptrs()) {
      if (refused(sh->MaterializeAll())) return 0;
    }
  }
  // Accepted: the state must take events, then save and restore again.
  for (int64_t i = 190; i < 230; ++i) e.Apply(i);
  for (features::Shard* sh : e.ptrs()) {
    if (refused(sh->error())) return 0;
  }
  MapSink sink;
  const core::Status saved = features::SaveState(&e.admission, e.ptrs(), &sink);
  if (!saved.ok()) {
    // Only a kept patch the events did not reach, decoded to be written whole.
    if (saved.code() != core::Code::kCorruption || (data[0] & 8))
      Fail("an accepted state does not save");
    refused(saved);
    return 0;
  }
  Checkpoint again{features::SaveHeader(*fx->cf, e.admission), sink.records};
  Engine e2(*fx->cf, 3);
  const core::Status s2 = Restore(again, &e2);
  if (!s2.ok()) {
    std::fprintf(stderr, "%s\n", s2.message().c_str());
    Fail("an accepted state, saved again, does not restore");
  }
  if (e2.admission.keys() != e.admission.keys()) Fail("admission keys changed in a round trip");
  return 0;
}
