// Checkpoint round trips per window kind: run events 0..k, save, restore into a fresh engine
// with another shard count, run k..n; every feature must equal (bit for bit) an uninterrupted run.
// The same with incremental checkpoints: a full save, then deltas (puts and tombstones) applied
// over it, restored.
#include "sluice/features/checkpoint.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "sluice/io/arena.h"
#include "sluice/spec/pipeline.h"

namespace sluice::features {
namespace {

constexpr int64_t kSec = 1'000'000;

std::string Spec(const std::string& window, const std::string& extra = "") {
  std::string w = window.empty() ? "" : ", " + window;
  std::string s = R"Y(name: t
event_time: {field: ts, unit: us}
allowed_lateness: 1m
state_ttl: 1h
fields:
  user: string
  merchant: string
  amount: double
features:
)Y";
  const char* aggs[] = {"count", "sum", "mean", "var", "stddev", "min", "max", "first", "last"};
  for (const char* a : aggs) {
    const std::string of = std::strcmp(a, "count") == 0 ? "" : ", of: amount";
    s += std::string("  - {name: f_") + a + ", agg: " + a + of + ", key: user" + w + "}\n";
  }
  s += "  - {name: f_ewma, agg: ewma, of: amount, half_life: 5m, key: user" + w + "}\n";
  s += "  - {name: f_dist, agg: count_distinct, of: merchant, key: user" + w + "}\n";
  s += "  - {name: f_dist_x, agg: count_distinct, of: merchant, key: user, exclude_current: true" +
       w + "}\n";
  s += "  - {name: f_sum_x, agg: sum, of: amount, key: user, exclude_current: true" + w + "}\n";
  s += "  - {name: f_pair, agg: sum, of: amount, key: [user, merchant]" + w + "}\n";
  return s + extra;
}

struct Event {
  int64_t time;
  std::vector<core::Value> fields;  // schema order
};

// Mostly in order, with late events (some beyond allowed_lateness), equal times, null values,
// and gaps longer than state_ttl (TTL resets) and 2 × state_ttl (evictable keys).
std::vector<Event> MakeEvents(const spec::Pipeline& p, int n, uint32_t seed,
                              std::vector<std::string>* strings) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int k) { return static_cast<int>(rng() % k); };
  strings->clear();
  for (int i = 0; i < 6; ++i) strings->push_back("user" + std::to_string(i));
  for (int i = 0; i < 5; ++i) strings->push_back("merchant-" + std::to_string(i));
  const int user = p.schema.Find("user"), merchant = p.schema.Find("merchant");
  const int amount = p.schema.Find("amount"), ts = p.schema.Find("ts");
  std::vector<Event> out;
  int64_t now = 1'700'000'000 * kSec;
  for (int i = 0; i < n; ++i) {
    const int r = pick(100);
    int64_t t = now;
    if (r < 15)
      t = now - pick(80) * kSec;  // late, some beyond the 1m lateness
    else if (r < 17)
      now += 70 * 60 * kSec;  // TTL reset
    else if (r < 18)
      now += 150 * 60 * kSec;  // evictable
    else if (r < 70)
      now += pick(40) * kSec;  // in order (equal times included)
    if (r >= 15) t = now;
    Event e{t, std::vector<core::Value>(p.schema.size())};
    e.fields[user] = core::Value::String((*strings)[pick(6)]);
    if (pick(10) > 0) e.fields[merchant] = core::Value::String((*strings)[6 + pick(5)]);
    if (pick(10) > 0)
      e.fields[amount] = core::Value::Double((pick(2) ? 1e9 : 1.0) * (rng() % 100000) / 7.0);
    e.fields[ts] = core::Value::Int(t);
    out.push_back(std::move(e));
  }
  return out;
}

// Admission and shards as the engine drives them, one event at a time.
class Engine {
 public:
  Engine(const CompiledFeatures& cf, int shards) : cf_(cf), admission_(cf) {
    for (int i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>(cf, i, shards));
    out_.resize(shards);
  }
  // The event's features, or an empty row when it is dead-lettered.
  std::vector<double> Apply(const Event& e, int64_t seq) {
    const size_t nk = cf_.key_spaces.size();
    std::vector<KeyRef> keys(nk);
    std::vector<uint8_t> flags(nk);
    arena_.Reset();
    for (size_t k = 0; k < nk; ++k)
      keys[k] = EncodeKey(cf_.key_spaces[k], e.fields.data(), &arena_);
    std::string detail;
    if (admission_.Admit(e.time, keys.data(), flags.data(), &detail) != core::Reason::kNone)
      return {};
    Shard::Row row{e.time, seq, e.fields.data(), keys.data(), flags.data()};
    std::vector<double> feats(cf_.num_features);
    for (size_t s = 0; s < shards_.size(); ++s) {
      out_[s].assign(cf_.num_features, -1);
      shards_[s]->Apply(row, out_[s].data());
    }
    for (int f = 0; f < cf_.num_features; ++f) {
      const KeyRef& key = keys[cf_.feature_key_space[f]];
      const int owner = key.null ? 0 : OwnerShard(key.hash, static_cast<int>(shards_.size()));
      feats[f] = out_[owner][f];
    }
    if (seq % 50 == 0) {
      for (auto& s : shards_) s->Sweep(admission_.stream_time());
    }
    return feats;
  }
  int64_t keys() const {
    int64_t n = 0;
    for (const auto& s : shards_) n += s->keys();
    return n;
  }

  const CompiledFeatures& cf_;
  Admission admission_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::vector<double>> out_;
  io::StringArena arena_;
};

// A store in memory: a full save fills it, a delta is applied over it (as the RocksDB store
// applies one batch). Each key at most once per save, as StateSink promises.
// Tombstones (state length 0) in a chunk of key states (KeyChunkWriter's format).
int64_t Tombstones(std::string_view chunk) {
  StateReader r(chunk);
  const uint32_t n = r.U32();
  int64_t dead = 0;
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    r.Take(r.Var());
    dead += r.Take(r.U32()).empty() ? 1 : 0;
  }
  EXPECT_TRUE(r.done()) << "malformed chunk";
  return dead;
}

class MemorySink : public StateSink {
 public:
  core::Status Put(std::string_view key, std::string_view value) override {
    if (!seen.emplace(key).second) return core::Status::Internal("duplicate record key");
    records[std::string(key)] = std::string(value);
    if (static_cast<RecordKind>(key[0]) == RecordKind::kKeysDelta) deletes += Tombstones(value);
    return core::Status::Ok();
  }
  core::Status Delete(std::string_view key) override {
    if (!seen.emplace(key).second) return core::Status::Internal("duplicate record key");
    ++deletes;
    records.erase(std::string(key));
    return core::Status::Ok();
  }
  std::map<std::string, std::string> records;
  std::set<std::string, std::less<>> seen;  // keys of the current save
  int64_t deletes = 0, puts_before = 0;
};

struct Saved {
  std::string header;
  MemorySink sink;
};

// A save through a SavePlan of `parts` parts per shard, its tasks run last to first (as threads
// may finish them in any order).
core::Status SaveInParts(Engine& e, bool delta, int parts, StateSink* sink) {
  std::vector<Shard*> shards;
  for (const auto& sh : e.shards_) shards.push_back(sh.get());
  SavePlan plan(&e.admission_, shards, delta, parts);
  for (int t = plan.tasks() - 1; t >= 0; --t) SLUICE_RETURN_IF_ERROR(plan.Run(t, sink));
  return plan.End();
}

// parts > 0: through SaveInParts.
Saved Save(Engine& e, int parts = 0) {
  Saved s;
  s.header = SaveHeader(e.cf_, e.admission_);
  std::vector<Shard*> shards;
  for (const auto& sh : e.shards_) shards.push_back(sh.get());
  EXPECT_TRUE((parts > 0 ? SaveInParts(e, false, parts, &s.sink)
                         : SaveState(&e.admission_, shards, &s.sink))
                  .ok());
  return s;
}

// Only what changed since the last save, applied over `s`.
void SaveDelta(Engine& e, Saved* s, int parts = 0) {
  std::vector<Shard*> shards;
  for (const auto& sh : e.shards_) shards.push_back(sh.get());
  s->sink.seen.clear();
  const core::Status st = parts > 0 ? SaveInParts(e, true, parts, &s->sink)
                                    : SaveChanges(&e.admission_, shards, &s->sink);
  EXPECT_TRUE(st.ok()) << st.message();
  s->header = SaveHeader(e.cf_, e.admission_);  // after: it carries the delta sequence number
  EXPECT_EQ(ChangedRecords(e.admission_, shards), 0);
}

core::Status Restore(const Saved& s, Engine* e) {
  std::vector<Shard*> shards;
  for (auto& sh : e->shards_) shards.push_back(sh.get());
  StateRestorer r(e->cf_, &e->admission_, shards);
  SLUICE_RETURN_IF_ERROR(r.Header(s.header));
  for (const auto& [k, v] : s.sink.records) SLUICE_RETURN_IF_ERROR(r.Record(k, v));
  return core::Status::Ok();
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

struct Compiled {
  spec::Pipeline p;
  std::unique_ptr<CompiledFeatures> cf;
};
std::unique_ptr<Compiled> CompileSpec(const std::string& text) {
  auto c = std::make_unique<Compiled>();
  auto p = spec::ParsePipeline(text, "t.yaml");
  EXPECT_TRUE(p.ok()) << p.status().message();
  if (!p.ok()) return nullptr;
  c->p = std::move(*p);
  auto cf = Compile(c->p);
  EXPECT_TRUE(cf.ok()) << cf.status().message();
  if (!cf.ok()) return nullptr;
  c->cf = std::move(*cf);
  return c;
}

// Every event's features from one engine that never stops: what a restored one must give.
std::vector<std::vector<double>> Uninterrupted(const CompiledFeatures& cf,
                                               const std::vector<Event>& events) {
  Engine ref(cf, 1);
  std::vector<std::vector<double>> want;
  for (size_t i = 0; i < events.size(); ++i) want.push_back(ref.Apply(events[i], i));
  return want;
}

class RoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(RoundTrip, LaterFeaturesAreBitIdentical) {
  auto c = CompileSpec(Spec(GetParam()));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    const auto events = MakeEvents(c->p, 600, seed, &strings);
    const auto want = Uninterrupted(*c->cf, events);
    for (size_t k : {size_t{0}, size_t{1}, size_t{37}, size_t{150}, size_t{301}, size_t{599}}) {
      Engine a(*c->cf, 2);
      for (size_t i = 0; i < k; ++i) a.Apply(events[i], i);
      const Saved s = Save(a);
      Engine b(*c->cf, 3);
      ASSERT_TRUE(Restore(s, &b).ok());
      EXPECT_EQ(b.keys(), a.keys());
      EXPECT_EQ(b.admission_.keys(), a.admission_.keys());
      EXPECT_EQ(b.admission_.stream_time(), a.admission_.stream_time());
      for (size_t i = k; i < events.size(); ++i) {
        ASSERT_TRUE(SameBits(b.Apply(events[i], i), want[i]))
            << "seed " << seed << ", split " << k << ", event " << i;
      }
    }
  }
}

// A full save at `base`, deltas at two later points, restore (another shard count), continue:
// bit-identical to the uninterrupted run. Evicted keys must reach the delta as tombstones (the
// events have gaps of 2.5 × state_ttl), or the restored engine would hold keys the saved one
// dropped, and the key counts would differ. The saves run whole, or in 2 or 7 parts per shard
// (SavePlan, as the runtime runs them on several threads): a part that dropped or repeated an
// entry at its bounds, or numbered its chunks into another part's (MemorySink refuses a repeated
// record key), fails it.
TEST_P(RoundTrip, IncrementalDeltasOverAFullSave) {
  auto c = CompileSpec(Spec(GetParam()));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  int64_t deletes = 0;
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    const auto events = MakeEvents(c->p, 600, seed, &strings);
    const auto want = Uninterrupted(*c->cf, events);
    for (const auto& [base, parts] : std::vector<std::pair<size_t, int>>{
             {0, 0}, {40, 0}, {200, 0}, {40, 2}, {150, 7}}) {
      Engine a(*c->cf, 2);
      size_t i = 0;
      for (; i < base; ++i) a.Apply(events[i], i);
      Saved s = Save(a, parts);
      {
        Engine b(*c->cf, 3);  // the full save alone: every key (the deltas rewrite most of them)
        ASSERT_TRUE(Restore(s, &b).ok());
        EXPECT_EQ(b.keys(), a.keys()) << "seed " << seed << ", base " << base << ", parts " << parts;
        EXPECT_EQ(b.admission_.keys(), a.admission_.keys()) << "seed " << seed;
      }
      for (size_t k : {base + 90, base + 330}) {
        for (; i < k; ++i) a.Apply(events[i], i);
        SaveDelta(a, &s, parts);
        deletes += s.sink.deletes;
        Engine b(*c->cf, 3);
        ASSERT_TRUE(Restore(s, &b).ok());
        EXPECT_EQ(b.keys(), a.keys()) << "seed " << seed << ", delta at " << k;
        EXPECT_EQ(b.admission_.keys(), a.admission_.keys()) << "seed " << seed;
        for (size_t j = k; j < events.size(); ++j) {
          ASSERT_TRUE(SameBits(b.Apply(events[j], j), want[j]))
              << "seed " << seed << ", base " << base << ", parts " << parts << ", delta at " << k
              << ", event " << j;
        }
      }
    }
  }
  EXPECT_GT(deletes, 0) << "no tombstone was ever written: eviction is not tested";
}

// Deltas every few events, so a delta's windows are patches over the last one's (rows kept,
// rows popped, late rows inserted, open buckets changed in place), restored over a full save at
// a few points and continued: bit-identical to the uninterrupted run.
TEST_P(RoundTrip, FrequentDeltasPatchTheWindows) {
  auto c = CompileSpec(Spec(GetParam()));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    const auto events = MakeEvents(c->p, 400, seed, &strings);
    const auto want = Uninterrupted(*c->cf, events);
    for (size_t every : {size_t{1}, size_t{3}, size_t{8}}) {
      Engine a(*c->cf, 2);
      Saved s = Save(a);
      int restores = 0;
      for (size_t i = 0; i < events.size(); ++i) {
        a.Apply(events[i], i);
        if ((i + 1) % every != 0) continue;
        SaveDelta(a, &s);
        if (i + 1 != 120 && i + 1 != 240) continue;  // multiples of every `every`
        ++restores;
        Engine b(*c->cf, 3);
        ASSERT_TRUE(Restore(s, &b).ok());
        EXPECT_EQ(b.keys(), a.keys()) << "seed " << seed << ", every " << every;
        if (every == 1) {  // 120+ deltas: keys in more than kMaxChain of them are decoded now
          int64_t pending = 0;
          for (auto& sh : b.shards_) pending += sh->pending_keys();
          EXPECT_LT(pending, b.keys()) << "seed " << seed;
        }
        for (size_t j = i + 1; j < events.size(); ++j) {
          ASSERT_TRUE(SameBits(b.Apply(events[j], j), want[j]))
              << "seed " << seed << ", every " << every << ", restored after " << i + 1
              << ", event " << j;
        }
      }
      EXPECT_EQ(restores, 2) << "every " << every;
    }
  }
}

// Every (key, state) entry of a save's key-state records, by key space and key (a full save
// holds each key once).
std::map<std::string, std::string> Entries(const Saved& s) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : s.sink.records) {
    if (static_cast<RecordKind>(k[0]) != RecordKind::kKeys) continue;
    KeyChunkReader chunk(v);
    std::string_view key, state;
    while (chunk.Next(&key, &state)) {
      EXPECT_TRUE(out.emplace(k.substr(0, 2) + std::string(key), std::string(state)).second);
    }
    EXPECT_TRUE(chunk.done());
  }
  return out;
}

// Restore is lazy: keys stay as their entries' bytes (a full save's, a delta's patches after
// it) until used. An engine restored lazily and one with every key decoded at once (MaterializeAll)
// save the same keys (a kept full entry is copied, a chain of patches decoded and written whole)
// and give bit-identical features, as does a restore of the lazy engine's own save.
TEST_P(RoundTrip, LazyAndDecodedRestoresAgree) {
  auto c = CompileSpec(Spec(GetParam()));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    const auto events = MakeEvents(c->p, 500, seed, &strings);
    const auto want = Uninterrupted(*c->cf, events);
    Engine a(*c->cf, 2);
    size_t i = 0;
    for (; i < 150; ++i) a.Apply(events[i], i);
    Saved s = Save(a);
    {
      // Saved again before any event, every key is still its entry's bytes: copied as is.
      Engine copy(*c->cf, 3);
      ASSERT_TRUE(Restore(s, &copy).ok());
      EXPECT_EQ(Entries(Save(copy)), Entries(s)) << "seed " << seed;
    }
    for (; i < 200; ++i) a.Apply(events[i], i);
    SaveDelta(a, &s);
    Engine lazy(*c->cf, 3), decoded(*c->cf, 3);
    ASSERT_TRUE(Restore(s, &lazy).ok());
    ASSERT_TRUE(Restore(s, &decoded).ok());
    int64_t pending = 0;
    for (auto& sh : lazy.shards_) pending += sh->pending_keys();
    EXPECT_EQ(pending, lazy.keys()) << "a restored key was decoded before its first use";
    EXPECT_GT(pending, 0);
    for (auto& sh : decoded.shards_) {
      ASSERT_TRUE(sh->MaterializeAll().ok());
      EXPECT_EQ(sh->pending_keys(), 0);
    }
    EXPECT_EQ(decoded.keys(), lazy.keys());
    // A few events first, so the lazy engine holds decoded and pending keys side by side.
    for (size_t j = i; j < i + 20; ++j) {
      ASSERT_TRUE(SameBits(lazy.Apply(events[j], j), want[j])) << "seed " << seed;
      ASSERT_TRUE(SameBits(decoded.Apply(events[j], j), want[j])) << "seed " << seed;
    }
    i += 20;
    const Saved from_lazy = Save(lazy, 3), from_decoded = Save(decoded);  // parts over both
    const auto lazy_entries = Entries(from_lazy), decoded_entries = Entries(from_decoded);
    ASSERT_EQ(lazy_entries.size(), decoded_entries.size());
    for (auto l = lazy_entries.begin(), d = decoded_entries.begin(); l != lazy_entries.end();
         ++l, ++d) {
      ASSERT_EQ(l->first, d->first) << "seed " << seed;
    }
    Engine again(*c->cf, 2);
    ASSERT_TRUE(Restore(from_lazy, &again).ok());
    for (size_t j = i; j < events.size(); ++j) {
      ASSERT_TRUE(SameBits(lazy.Apply(events[j], j), want[j])) << "seed " << seed << " event " << j;
      ASSERT_TRUE(SameBits(decoded.Apply(events[j], j), want[j])) << "seed " << seed;
      ASSERT_TRUE(SameBits(again.Apply(events[j], j), want[j])) << "seed " << seed;
    }
    for (auto& sh : lazy.shards_) EXPECT_TRUE(sh->error().ok());
  }
}

// A save written beside the engine, as the runtime writes one: a delta (Admission::TakeChanges,
// Shard::TakeSnapshot) or, with `full`, every key (admission's and restored keys not decoded
// yet at once, Shard::TakeFullSnapshot) replacing `s`; the shards' states are written by
// another thread (SaveSnapshot) while `meanwhile` applies the next events, and a key changed
// before that thread reached it is written by the engine first, into the side records. With
// `hold`, the thread starts only after `meanwhile`, so every key the engine changed meanwhile
// goes through the side records; otherwise the two race. Each thread writes a sink of its own,
// merged into `s` after. Counts the side entries, and the restored keys written undecoded.
void SaveBeside(Engine& e, Saved* s, bool full, bool hold, const std::function<void()>& meanwhile,
                int64_t* side_entries, int64_t* pending_entries) {
  if (full) s->sink = MemorySink();
  s->sink.seen.clear();
  const size_t n = e.shards_.size();
  std::vector<MemorySink> main(n), side(n), pending(n);
  if (full) {
    ASSERT_TRUE(e.admission_.SaveKeys(&s->sink).ok());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(e.shards_[i]->SavePending(&pending[i]).ok());
      e.shards_[i]->TakeFullSnapshot(&side[i]);
    }
  } else {
    const Admission::Changes& changes = e.admission_.TakeChanges();
    ASSERT_TRUE(Admission::WriteChanges(changes, &s->sink).ok());
    for (size_t i = 0; i < n; ++i) e.shards_[i]->TakeSnapshot(changes.delta_seq, &side[i]);
  }
  s->header = SaveHeader(e.cf_, e.admission_);
  std::promise<void> go;
  std::vector<core::Status> status(n);
  std::thread writer([&, started = go.get_future()] {
    if (hold) started.wait();
    for (size_t i = 0; i < n; ++i) status[i] = e.shards_[i]->SaveSnapshot(&main[i]);
  });
  meanwhile();
  go.set_value();
  writer.join();
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(status[i].ok()) << status[i].message();
    for (const MemorySink* part : {&main[i], &side[i], &pending[i]}) {
      for (const auto& [k, v] : part->records) {
        ASSERT_TRUE(s->sink.Put(k, v).ok()) << "a record key written twice";
        if (part == &side[i]) *side_entries += KeyChunkReader(v).size();
        if (part == &pending[i]) *pending_entries += KeyChunkReader(v).size();
      }
    }
  }
}

// Saves written beside the engine every few events (every third a full one), each restored
// (another shard count) and continued: bit-identical to the uninterrupted run, and so is the
// engine that went on meanwhile. A key both threads wrote, or neither, or one written with the
// state the engine changed after the snapshot, fails it. Halfway, the engine is replaced by one
// restored from the last save, so that a full save also writes restored keys not decoded yet.
TEST_P(RoundTrip, SavesWrittenBesideTheEngine) {
  auto c = CompileSpec(Spec(GetParam()));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  int64_t side_entries = 0, pending_entries = 0;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    const auto events = MakeEvents(c->p, 400, seed, &strings);
    const auto want = Uninterrupted(*c->cf, events);
    for (const bool hold : {true, false}) {
      for (const size_t every : {size_t{5}, size_t{40}}) {
        auto a = std::make_unique<Engine>(*c->cf, 2);
        Saved s = Save(*a);
        size_t i = 0, saves = 0;
        bool swapped = false;
        for (; i < every; ++i) ASSERT_TRUE(SameBits(a->Apply(events[i], i), want[i]));
        while (i < events.size()) {
          const size_t k = i;
          const int64_t keys = a->keys();
          SaveBeside(*a, &s, ++saves % 3 == 0, hold, [&] {
            for (; i < std::min(k + every, events.size()); ++i) {
              ASSERT_TRUE(SameBits(a->Apply(events[i], i), want[i]))
                  << "the engine beside the snapshot, seed " << seed << ", event " << i;
            }
          }, &side_entries, &pending_entries);
          if (!swapped && i >= events.size() / 2 && i < events.size()) {
            // The engine restored from this save, then the events after it again.
            swapped = true;
            a = std::make_unique<Engine>(*c->cf, 2);
            ASSERT_TRUE(Restore(s, a.get()).ok());
            for (size_t j = k; j < i; ++j) ASSERT_TRUE(SameBits(a->Apply(events[j], j), want[j]));
          }
          Engine b(*c->cf, 3);
          ASSERT_TRUE(Restore(s, &b).ok());
          EXPECT_EQ(b.keys(), keys) << "seed " << seed << ", delta at " << k;
          for (size_t j = k; j < events.size(); ++j) {
            ASSERT_TRUE(SameBits(b.Apply(events[j], j), want[j]))
                << "seed " << seed << ", hold " << hold << ", every " << every << ", delta at "
                << k << ", event " << j;
          }
        }
      }
    }
  }
  EXPECT_GT(side_entries, 0) << "the engine never wrote a snapshot's key: that path is untested";
  EXPECT_GT(pending_entries, 0) << "no full save wrote a restored key undecoded";
}

INSTANTIATE_TEST_SUITE_P(Checkpoint, RoundTrip,
                         ::testing::Values("window: 5m", "window: 30m, resolution: 5m", "rows: 4",
                                           "rows: 1", ""));

TEST(Checkpoint, ZeroLatenessUnboundedKeepsNoEvents) {
  std::string text = Spec("");
  text.replace(text.find("allowed_lateness: 1m"), 20, "allowed_lateness: 0s");
  auto c = CompileSpec(text);
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  const auto events = MakeEvents(c->p, 300, 9, &strings);
  Engine ref(*c->cf, 1), a(*c->cf, 1);
  std::vector<std::vector<double>> want;
  for (size_t i = 0; i < events.size(); ++i) want.push_back(ref.Apply(events[i], i));
  for (size_t i = 0; i < 120; ++i) a.Apply(events[i], i);
  Engine b(*c->cf, 4);
  ASSERT_TRUE(Restore(Save(a), &b).ok());
  for (size_t i = 120; i < events.size(); ++i)
    ASSERT_TRUE(SameBits(b.Apply(events[i], i), want[i]));
}

TEST(Checkpoint, RefusesAnotherSpec) {
  auto c = CompileSpec(Spec("window: 5m"));
  auto other = CompileSpec(Spec("window: 6m"));
  ASSERT_TRUE(c && other);
  EXPECT_NE(LayoutFingerprint(*c->cf), LayoutFingerprint(*other->cf));
  Engine a(*c->cf, 1), b(*other->cf, 1);
  const core::Status s = Restore(Save(a), &b);
  EXPECT_EQ(s.code(), core::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("different feature spec"), std::string::npos) << s.message();
  // An expression feature reads state but does not change it: same fingerprint.
  auto expr = CompileSpec(Spec("window: 5m", "  - {name: e, expr: \"f_sum * 2\"}\n"));
  ASSERT_TRUE(expr);
  EXPECT_EQ(LayoutFingerprint(*c->cf), LayoutFingerprint(*expr->cf));
}

TEST(Checkpoint, MalformedRecordsAreErrorsNotCrashes) {
  auto c = CompileSpec(Spec("window: 30m, resolution: 5m"));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  const auto events = MakeEvents(c->p, 200, 3, &strings);
  Engine a(*c->cf, 1);
  for (size_t i = 0; i < events.size(); ++i) a.Apply(events[i], i);
  Saved s = Save(a);
  ASSERT_FALSE(s.sink.records.empty());
  int refused = 0, cases = 0;
  for (const auto& [k, v] : s.sink.records) {
    for (size_t cut : {size_t{0}, v.size() / 2, v.size() - 1}) {
      Saved broken = s;
      broken.sink.records[k] = v.substr(0, cut);
      if (cut == v.size()) continue;
      Engine b(*c->cf, 2);
      ++cases;
      if (!Restore(broken, &b).ok()) ++refused;
    }
    Saved longer = s;
    longer.sink.records[k] = v + "x";
    Engine b(*c->cf, 2);
    ++cases;
    if (!Restore(longer, &b).ok()) ++refused;
  }
  EXPECT_EQ(refused, cases);
  Saved bad_header = s;
  bad_header.header[0] = 'X';
  Engine b(*c->cf, 1);
  EXPECT_EQ(Restore(bad_header, &b).code(), core::Code::kCorruption);
}

// A key-state entry whose bytes are malformed but whose chunk is well formed passes a lazy
// restore; it is found when the key is first used: the shard's error() says so (the engine
// stops on it) and the key starts afresh. MaterializeAll finds it at once.
TEST(Checkpoint, AMalformedEntryIsFoundWhenItsKeyIsFirstUsed) {
  auto c = CompileSpec(Spec("window: 30m, resolution: 5m"));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  const auto events = MakeEvents(c->p, 300, 4, &strings);
  Engine a(*c->cf, 1);
  for (size_t i = 0; i < 150; ++i) a.Apply(events[i], i);
  Saved s = Save(a);
  int broken = 0;
  for (auto& [k, v] : s.sink.records) {
    if (static_cast<RecordKind>(k[0]) != RecordKind::kKeys) continue;
    KeyChunkReader chunk(v);
    std::string_view key, state;
    while (chunk.Next(&key, &state)) {  // every entry: a newest time that never ends
      std::memset(v.data() + (state.data() - v.data()), 0xff, state.size());
      ++broken;
    }
  }
  ASSERT_GT(broken, 0);
  Engine b(*c->cf, 1);
  ASSERT_TRUE(Restore(s, &b).ok());
  EXPECT_TRUE(b.shards_[0]->error().ok());
  for (size_t i = 150; i < 300; ++i) b.Apply(events[i], i);
  EXPECT_EQ(b.shards_[0]->error().code(), core::Code::kCorruption);
  EXPECT_NE(b.shards_[0]->error().message().find("malformed checkpoint state"), std::string::npos);
  Engine d(*c->cf, 1);
  ASSERT_TRUE(Restore(s, &d).ok());
  EXPECT_EQ(d.shards_[0]->MaterializeAll().code(), core::Code::kCorruption);
}

// Version 1 (fixed-width) checkpoints are refused with a message that says what to do.
// The hot-loop writer (Extend, PutVar, PutSVar, Commit) writes the bytes Var/SVar/Raw write, so
// the event rows and distinct sets it saves read back with StateReader.
TEST(StateCodec, CursorWritesTheSameBytes) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 255, 300, 16383, 16384, UINT32_MAX, UINT64_MAX};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) values.push_back(rng() >> (rng() % 64));
  std::string a, b;
  StateWriter wa(&a), wb(&b);
  for (uint64_t v : values) {
    wa.Var(v);
    wa.SVar(static_cast<int64_t>(v));
    wa.SVar(-static_cast<int64_t>(v));
    wa.U64(v);
  }
  char* p = wb.Extend(values.size() * (3 * StateWriter::kMaxVar + 8));
  for (uint64_t v : values) {
    p = StateWriter::PutVar(p, v);
    p = StateWriter::PutSVar(p, static_cast<int64_t>(v));
    p = StateWriter::PutSVar(p, -static_cast<int64_t>(v));
    std::memcpy(p, &v, 8);
    p += 8;
  }
  wb.Commit(p);
  wa.Flush();
  wb.Flush();
  EXPECT_EQ(a, b);
  StateReader r(b);
  for (uint64_t v : values) {
    ASSERT_EQ(r.Var(), v);
    ASSERT_EQ(r.SVar(), static_cast<int64_t>(v));
    ASSERT_EQ(r.SVar(), -static_cast<int64_t>(v));
    ASSERT_EQ(r.U64(), v);
  }
  EXPECT_TRUE(r.done());
}

TEST(Checkpoint, RefusesAnOlderFormatVersion) {
  auto c = CompileSpec(Spec("window: 5m"));
  ASSERT_TRUE(c);
  Engine a(*c->cf, 1), b(*c->cf, 1);
  Saved s = Save(a);
  const uint32_t v3 = 3;  // whole windows in deltas: the format before patches
  std::memcpy(s.header.data() + 4, &v3, 4);
  const core::Status st = Restore(s, &b);
  EXPECT_EQ(st.code(), core::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("format version 3, this build reads 4 to 5"), std::string::npos)
      << st.message();
}

// Format 4 is format 5 without the key counts at the header's end: still read, with the same
// result.
TEST(Checkpoint, ReadsFormat4) {
  auto c = CompileSpec(Spec("window: 30m, resolution: 5m"));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  const auto events = MakeEvents(c->p, 300, 6, &strings);
  Engine ref(*c->cf, 1), a(*c->cf, 2);
  for (size_t i = 0; i < 150; ++i) {
    ref.Apply(events[i], i);
    a.Apply(events[i], i);
  }
  Saved s = Save(a);
  // magic, version, layout fingerprint, key space count, stream time, last sweep, delta sequence
  constexpr size_t kFormat4Header = 4 + 4 + 8 + 4 + 8 + 8 + 8;
  ASSERT_EQ(s.header.size(), kFormat4Header + c->cf->key_spaces.size());  // one-byte counts
  Saved v4 = s;
  v4.header.resize(kFormat4Header);
  const uint32_t four = 4;
  std::memcpy(v4.header.data() + 4, &four, 4);
  Engine b(*c->cf, 3);
  ASSERT_TRUE(Restore(v4, &b).ok());
  EXPECT_EQ(b.keys(), a.keys());
  for (size_t i = 150; i < events.size(); ++i)
    ASSERT_TRUE(SameBits(b.Apply(events[i], i), ref.Apply(events[i], i))) << "event " << i;
  Saved v5_short = s;  // a format 5 header without its counts is malformed
  v5_short.header.resize(kFormat4Header);
  Engine e(*c->cf, 1);
  EXPECT_EQ(Restore(v5_short, &e).code(), core::Code::kCorruption);
}

// Changes are tracked from the first save or restore only: an engine that never checkpoints keeps
// no list of its keys, and a delta before any save is refused rather than written empty.
TEST(Checkpoint, ChangesAreTrackedFromTheFirstSaveOrRestore) {
  auto c = CompileSpec(Spec("window: 5m"));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  const auto events = MakeEvents(c->p, 200, 3, &strings);
  Engine a(*c->cf, 2), b(*c->cf, 2);
  std::vector<Shard*> sa, sb;
  for (const auto& sh : a.shards_) sa.push_back(sh.get());
  for (const auto& sh : b.shards_) sb.push_back(sh.get());
  for (size_t i = 0; i < 100; ++i) a.Apply(events[i], i);
  EXPECT_EQ(ChangedRecords(a.admission_, sa), 0);
  MemorySink sink;
  EXPECT_EQ(SaveChanges(&a.admission_, sa, &sink).code(), core::Code::kInternal);
  const Saved s = Save(a);
  ASSERT_TRUE(Restore(s, &b).ok());
  for (size_t i = 100; i < 200; ++i) {
    a.Apply(events[i], i);
    b.Apply(events[i], i);
  }
  EXPECT_GT(ChangedRecords(a.admission_, sa), 0);
  EXPECT_EQ(ChangedRecords(b.admission_, sb), ChangedRecords(a.admission_, sa));
}

// A restored engine is the checkpoint: nothing in it counts as changed, so the next delta holds
// only what happens after the restore.
TEST(Checkpoint, NothingIsChangedAfterARestore) {
  auto c = CompileSpec(Spec("window: 5m"));
  ASSERT_TRUE(c);
  std::vector<std::string> strings;
  const auto events = MakeEvents(c->p, 200, 5, &strings);
  Engine a(*c->cf, 2), b(*c->cf, 3);
  for (size_t i = 0; i < 151; ++i) a.Apply(events[i], i);
  ASSERT_TRUE(Restore(Save(a), &b).ok());
  std::vector<Shard*> shards;
  for (const auto& sh : b.shards_) shards.push_back(sh.get());
  EXPECT_EQ(ChangedRecords(b.admission_, shards), 0);
  EXPECT_GT(b.keys(), 0);
  b.Apply(events[151], 151);  // not a sweep (every 50th): no eviction
  EXPECT_GE(ChangedRecords(b.admission_, shards), 1);
  EXPECT_LE(ChangedRecords(b.admission_, shards), 2 * 2);  // two key spaces, admission + shard
}

}  // namespace
}  // namespace sluice::features
