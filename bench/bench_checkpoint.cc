// bench_checkpoint: checkpoint write and restore of keyed state through RocksDB, against two
// limits measured in the same run: reading the same records back from the same store without
// restoring them (RocksDB iteration only), and first touching as many bytes of fresh memory as the
// restored state takes (a restarted process restores into memory it never touched). State: --keys
// keys, each with --events-per-key events, spec as bench_state_memory plus a bucketed mean and a
// count_distinct, fed through Admission and one Shard as backfill does. Then one more event for a
// --changed fraction of the keys and an incremental checkpoint (a delta over the full one): its
// time against the full checkpoint's, in the same run. The restore reads the generation with the
// delta over it.
//
//   bench_checkpoint [--keys N] [--events-per-key E] [--changed F] [--restore-runs R] [--dir DIR]
//                    [--restore-shards S] [--warm]
// (--restore-runs: restores into a fresh engine R times, each run with both limits, medians are
//  reported; --restore-shards: restores into S shards).
//
// Prints one JSON object; restore_keys_per_s is the figure against the 2M keys/s target. Restore
// is lazy (features/pending_states.h): decode_all_s is the time to decode every restored key
// afterwards (Shard::MaterializeAll), which a run pays at each key's first event;
// restore_and_decode_keys_per_s counts both.
#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sluice/engine/checkpoint_store.h"
#include "sluice/features/admission.h"
#include "sluice/features/compiled.h"
#include "sluice/features/huge_pages.h"
#include "sluice/features/keys.h"
#include "sluice/features/shard.h"
#include "sluice/spec/pipeline.h"

namespace sluice::bench {
namespace {

constexpr char kSpec[] = R"(name: checkpoint
event_time: {field: ts, unit: ms}
fields: {k: string, m: string, x: double}
features:
  - {name: k_cnt_1h, agg: count, key: k, window: 1h}
  - {name: k_sum_1h, agg: sum, of: x, key: k, window: 1h}
  - {name: k_avg_30d, agg: mean, of: x, key: k, window: 30d, resolution: 1h}
  - {name: k_merch_7d, agg: count_distinct, of: m, key: k, window: 7d}
)";

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Bytes of memory handed out: by malloc (glibc mallinfo2: small chunks + mmapped ones) and as huge
// pages for key-state slabs and large key tables.
int64_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd + features::MappedHugeBytes());
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Events round-robin over the keys, 1 s apart, so every key ends with E events in its windows;
// rounds [from, to), round `to - 1` only for the first `limit` keys.
void BuildState(const features::CompiledFeatures& cf, int64_t keys, int from, int to, int64_t limit,
                features::Admission* a, features::Shard* shard) {
  const spec::Pipeline& p = *cf.pipeline;
  const int kf = p.schema.Find("k"), mf = p.schema.Find("m"), xf = p.schema.Find("x");
  std::vector<core::Value> v(p.schema.size());
  std::vector<double> out(cf.num_features);
  io::StringArena arena;
  char key[32], merchant[32];
  for (int e = from; e < to; ++e) {
    for (int64_t k = 0; k < (e == to - 1 ? limit : keys); ++k) {
      std::snprintf(key, sizeof key, "k%09lld", static_cast<long long>(k));
      std::snprintf(merchant, sizeof merchant, "m%d", static_cast<int>((k + e) % 7));
      v[kf] = core::Value::String(key);
      v[mf] = core::Value::String(merchant);
      v[xf] = core::Value::Double(static_cast<double>(k % 1000) / 3.0);
      const int64_t t = (static_cast<int64_t>(e) * keys + k) * 1000;
      arena.Reset();
      features::KeyRef ref = features::EncodeKey(cf.key_spaces[0], v.data(), &arena);
      uint8_t flags = 0;
      std::string detail;
      if (a->Admit(t, &ref, &flags, &detail) != core::Reason::kNone) continue;
      shard->Apply({t, e * keys + k, v.data(), &ref, &flags}, out.data());
    }
  }
}

int Run(int64_t keys, int epk, double changed, int restore_runs, int restore_shards, bool warm,
        const std::string& dir) {
  auto p = spec::ParsePipeline(kSpec, "bench.yaml");
  auto cf = features::Compile(*p);
  if (!p.ok() || !cf.ok()) return 2;
  std::filesystem::remove_all(dir);
  features::Admission a(**cf);
  auto shard = std::make_unique<features::Shard>(**cf, 0, 1);
  BuildState(**cf, keys, 0, epk, keys, &a, shard.get());
  auto store = engine::CheckpointStore::Open(dir);
  if (!store.ok()) return 2;
  auto t0 = std::chrono::steady_clock::now();
  if (!engine::WriteCheckpoint(store->get(), 1, {}, **cf, &a, {shard.get()}).ok()) return 2;
  const double write_s = Seconds(t0);
  const int64_t changed_keys = static_cast<int64_t>(changed * static_cast<double>(keys));
  BuildState(**cf, keys, epk, epk + 1, changed_keys, &a, shard.get());
  t0 = std::chrono::steady_clock::now();
  if (!engine::WriteCheckpoint(store->get(), 2, {}, **cf, &a, {shard.get()},
                               engine::CheckpointMode::kAuto)
           .ok() ||
      (*store)->current_generation() != 1)
    return 2;
  const double delta_s = Seconds(t0);
  // The built state stays alive, and so does every restored one until the end: each restore gets
  // fresh memory, as a restarted process does (restoring into memory just freed by another engine
  // would time the allocator's reuse of free lists instead of the first touch of new pages).
  // --warm frees the built shard first, as this bench did before 2026-12-04, for comparisons
  // with those figures.
  if (warm) shard.reset();
  // Each run: the read limit (the same records read back, nothing done with them), a restore into
  // a fresh engine, then the touch limit (as many bytes as that restore allocated, freshly mapped
  // and written once per 4 KiB page: what first touching the restored state's memory costs on
  // this machine, before any work). Medians over the runs.
  std::vector<double> reads, restores, touches, decodes;
  std::vector<std::unique_ptr<features::Admission>> kept_admissions;
  std::vector<std::unique_ptr<features::Shard>> restored;
  std::vector<std::pair<void*, size_t>> touched;
  int64_t records = 0, bytes = 0, state_bytes = 0;
  for (int i = 0; i < restore_runs; ++i) {
    t0 = std::chrono::steady_clock::now();
    records = bytes = 0;
    auto reader = (*store)->ReadLatest();
    if (!reader.ok()) return 2;
    auto s = (*reader)->ForEach([&](std::string_view k, std::string_view v) {
      ++records;
      bytes += static_cast<int64_t>(k.size() + v.size());
      return core::Status::Ok();
    });
    reads.push_back(Seconds(t0));
    reader->reset();
    if (!s.ok()) return 2;

    features::Admission& a2 =
        *kept_admissions.emplace_back(std::make_unique<features::Admission>(**cf));
    const size_t first = restored.size();
    std::vector<features::Shard*> ptrs;
    for (int id = 0; id < restore_shards; ++id) {
      restored.push_back(std::make_unique<features::Shard>(**cf, id, restore_shards));
      ptrs.push_back(restored.back().get());
    }
    const int64_t heap0 = HeapBytes();
    t0 = std::chrono::steady_clock::now();
    auto info = engine::RestoreLatest(store->get(), **cf, &a2, ptrs);
    restores.push_back(Seconds(t0));
    state_bytes = HeapBytes() - heap0;
    int64_t restored_keys = 0;
    for (size_t j = first; j < restored.size(); ++j) {
      restored_keys += restored[j]->keys();
    }
    if (!info.ok() || restored_keys != keys) return 1;

    const size_t n = static_cast<size_t>(state_bytes);
    t0 = std::chrono::steady_clock::now();
    void* mem = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return 2;
    for (size_t off = 0; off < n; off += 4096) static_cast<volatile char*>(mem)[off] = 1;
    touches.push_back(Seconds(t0));
    touched.emplace_back(mem, n);

    // Restore is lazy (features/pending_states.h): each key is decoded when first used. Decoding
    // them all at once is that deferred cost, which a run pays over its first events.
    t0 = std::chrono::steady_clock::now();
    for (size_t j = first; j < restored.size(); ++j) {
      if (!restored[j]->MaterializeAll().ok()) return 1;
    }
    decodes.push_back(Seconds(t0));
  }
  const double read_s = Median(reads), restore_s = Median(restores), touch_s = Median(touches),
               decode_s = Median(decodes);
  std::printf(
      "{\"keys\": %lld, \"events_per_key\": %d, \"records\": %lld, \"bytes\": %lld, "
      "\"write_s\": %.3f, \"changed_keys\": %lld, \"delta_s\": %.3f, \"delta_vs_full\": %.3f, "
      "\"restore_runs\": %d, \"restore_shards\": %d, \"state_bytes\": %lld, "
      "\"read_s\": %.3f, \"touch_s\": %.3f, \"restore_s\": %.3f, \"write_keys_per_s\": %.0f, "
      "\"read_records_per_s\": %.0f, \"restore_keys_per_s\": %.0f, \"restore_vs_read\": %.3f, "
      "\"restore_vs_read_plus_touch\": %.3f, \"decode_all_s\": %.3f, "
      "\"restore_and_decode_keys_per_s\": %.0f}\n",
      static_cast<long long>(keys), epk, static_cast<long long>(records),
      static_cast<long long>(bytes), write_s, static_cast<long long>(changed_keys), delta_s,
      delta_s / write_s, restore_runs, restore_shards, static_cast<long long>(state_bytes), read_s,
      touch_s, restore_s, keys / write_s, records / read_s, keys / restore_s, read_s / restore_s,
      (read_s + touch_s) / restore_s, decode_s, keys / (restore_s + decode_s));
  for (const auto& [mem, n] : touched) munmap(mem, n);
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  int64_t keys = 1'000'000;
  int epk = 1;
  double changed = 0.1;
  int restore_runs = 1, restore_shards = 1;
  bool warm = false;
  std::string dir = "/tmp/sluice_bench_checkpoint";
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--warm") {
      warm = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_checkpoint: %s needs a value\n", argv[i]);
      return 2;
    }
    const char* v = argv[++i];
    if (flag == "--keys") {
      keys = std::atoll(v);
    } else if (flag == "--events-per-key") {
      epk = std::atoi(v);
    } else if (flag == "--changed") {
      changed = std::atof(v);
    } else if (flag == "--dir") {
      dir = v;
    } else if (flag == "--restore-shards") {
      restore_shards = std::max(1, std::atoi(v));
    } else if (flag == "--restore-runs") {
      restore_runs = std::max(1, std::atoi(v));
    } else {
      std::fprintf(stderr, "bench_checkpoint: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  return sluice::bench::Run(keys, epk, changed, restore_runs, restore_shards, warm, dir);
}
