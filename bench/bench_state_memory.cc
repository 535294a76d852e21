// bench_state_memory: heap bytes of keyed window state per key-feature pair, against the target
// of 200 bytes. A two-feature spec (count and sum of a double over key k, window 1h) is compiled
// and fed --keys events with distinct keys through Admission and one Shard in batches, as backfill
// does. The heap growth (glibc mallinfo2: uordblks + hblkhd, plus the huge-page memory of key-state
// slabs and large key tables, features::MappedHugeBytes) is split into what Admission and the Shard
// allocate; the bytes of raw events the windows hold (Shard::EventBytes, what any design must keep)
// are subtracted, and the rest is divided by keys x 2 features. RSS growth is a cross-check.
//
//   bench_state_memory [--keys N] [--batch B]
//
// Prints one JSON object. 10M keys need about 3 GB.
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "sluice/features/admission.h"
#include "sluice/features/compiled.h"
#include "sluice/features/huge_pages.h"
#include "sluice/features/keys.h"
#include "sluice/features/shard.h"
#include "sluice/features/window_state.h"
#include "sluice/spec/pipeline.h"

namespace sluice::bench {
namespace {

constexpr char kSpec[] = R"(name: state_memory
event_time: {field: ts, unit: ms}
fields: {k: string, x: double}
features:
  - {name: k_cnt_1h, agg: count, key: k, window: 1h}
  - {name: k_sum_1h, agg: sum, of: x, key: k, window: 1h}
)";
constexpr int kFeatures = 2;
constexpr double kTargetBytes = 200;
constexpr size_t kKeyLen = 10;  // "k" + 9 digits: fits std::string's inline buffer, like most ids

int64_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd + features::MappedHugeBytes());
}

int64_t RssBytes() {
  long pages = 0, rss = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
  std::fclose(f);
  return static_cast<int64_t>(rss) * sysconf(_SC_PAGESIZE);
}

// Everything one batch needs, allocated once before the baseline so it is not counted.
struct BatchBuffers {
  BatchBuffers(size_t batch, size_t nf, size_t nfeat)
      : key_chars(batch * kKeyLen),
        values(batch * nf),
        keys(batch),
        flags(batch),
        out(batch * nfeat),
        rows(batch) {}
  std::vector<char> key_chars;
  std::vector<core::Value> values;
  std::vector<features::KeyRef> keys;
  std::vector<uint8_t> flags;
  std::vector<double> out;
  std::vector<features::Shard::Row> rows;
};

struct Growth {
  int64_t admission = 0, shard = 0;
};

// Fills rows [0, n) with events first..first+n-1: distinct key, 1 ms apart, amount-like x.
void FillBatch(const features::CompiledFeatures& cf, int64_t first, size_t n, BatchBuffers* b) {
  const spec::Pipeline& p = *cf.pipeline;
  const size_t nf = p.schema.size();
  const int k_field = p.schema.Find("k"), x_field = p.schema.Find("x"),
            t_field = p.schema.time_index();
  for (size_t j = 0; j < n; ++j) {
    const int64_t e = first + static_cast<int64_t>(j);
    char* kc = &b->key_chars[j * kKeyLen];
    char digits[32];
    std::snprintf(digits, sizeof digits, "k%09lld", static_cast<long long>(e));
    std::memcpy(kc, digits, kKeyLen);
    core::Value* v = &b->values[j * nf];
    v[k_field] = core::Value::String(std::string_view(kc, kKeyLen));
    v[x_field] = core::Value::Double(static_cast<double>(e % 10000) * 0.01);
    v[t_field] = core::Value::Int(1'700'000'000'000 + e);
    b->keys[j] = features::EncodeKey(cf.key_spaces[0], v, nullptr);
    b->rows[j] = {(1'700'000'000'000 + e) * 1000, e, v, &b->keys[j], &b->flags[j]};
  }
}

// Admits and applies one batch, adding each step's heap growth to `g`.
bool ApplyBatch(features::Admission* adm, features::Shard* shard, BatchBuffers* b, size_t n,
                Growth* g) {
  std::string detail;
  const int64_t h0 = HeapBytes();
  for (size_t j = 0; j < n; ++j) {
    if (adm->Admit(b->rows[j].time_us, &b->keys[j], &b->flags[j], &detail) != core::Reason::kNone)
      return false;
  }
  const int64_t h1 = HeapBytes();
  shard->ApplyBatch(b->rows.data(), n, b->out.data(), b->out.size() / b->rows.size());
  const int64_t h2 = HeapBytes();
  g->admission += h1 - h0;
  g->shard += h2 - h1;
  return true;
}

struct Measurement {
  int64_t keys = 0, live_keys = 0, heap = 0, rss = 0, events = 0;
  Growth growth;
  size_t state_size = 0, groups = 0;  // window-state objects of one key (before the block header)
  double seconds = 0, drop_seconds = 0;
};

// Feeds `keys` events with distinct keys and measures what their state holds.
bool Measure(const features::CompiledFeatures& cf, int64_t keys, size_t batch, Measurement* m) {
  BatchBuffers b(batch, cf.pipeline->schema.size(), cf.num_features);
  auto admission = std::make_unique<features::Admission>(cf);
  auto shard = std::make_unique<features::Shard>(cf, 0, 1);
  const int64_t heap0 = HeapBytes(), rss0 = RssBytes();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t first = 0; first < keys; first += static_cast<int64_t>(batch)) {
    const size_t n =
        static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(batch), keys - first));
    FillBatch(cf, first, n, &b);
    if (!ApplyBatch(admission.get(), shard.get(), &b, n, &m->growth)) return false;
  }
  m->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m->keys = keys;
  m->heap = HeapBytes() - heap0;
  m->rss = RssBytes() - rss0;
  m->events = static_cast<int64_t>(shard->EventBytes());
  m->live_keys = shard->keys();
  for (const auto& g : cf.key_spaces[0].groups) m->state_size += features::StateSize(g);
  m->groups = cf.key_spaces[0].groups.size();
  // Dropping every key costs what evicting them would (Sweep, TTL), so it is timed too.
  const auto drop = std::chrono::steady_clock::now();
  shard.reset();
  admission.reset();
  m->drop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - drop).count();
  return true;
}

void Print(const Measurement& m) {
  const double pairs = static_cast<double>(m.keys) * kFeatures;
  const double per_pair = static_cast<double>(m.heap - m.events) / pairs;
  auto ll = [](int64_t v) { return static_cast<long long>(v); };
  std::printf(
      "{\"keys\": %lld, \"features\": %d, \"live_keys\": %lld, \"heap_bytes\": %lld, "
      "\"admission_bytes\": %lld, "
      "\"shard_bytes\": %lld, \"event_bytes\": %lld, \"rss_bytes\": %lld, \"bytes_per_pair\": "
      "%.2f, "
      "\"bytes_per_pair_with_events\": %.2f, \"rss_bytes_per_pair\": %.2f, "
      "\"target_bytes_per_pair\": %.0f, "
      "\"ratio_to_target\": %.3f, \"seconds\": %.3f, \"drop_seconds\": %.3f, "
      "\"window_state_size\": %zu, "
      "\"groups\": %zu}\n",
      ll(m.keys), kFeatures, ll(m.live_keys), ll(m.heap), ll(m.growth.admission),
      ll(m.growth.shard), ll(m.events), ll(m.rss), per_pair, static_cast<double>(m.heap) / pairs,
      static_cast<double>(m.rss - m.events) / pairs, kTargetBytes, per_pair / kTargetBytes,
      m.seconds, m.drop_seconds, m.state_size, m.groups);
}

int Main(int argc, char** argv) {
  int64_t keys = 10'000'000;
  size_t batch = 4096;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--keys")
      keys = std::atoll(argv[i + 1]);
    else if (a == "--batch")
      batch = std::strtoull(argv[i + 1], nullptr, 10);
  }
  if (argc % 2 == 0 || keys <= 0 || keys >= 1'000'000'000 || batch == 0) {
    std::fprintf(stderr, "usage: bench_state_memory [--keys N (< 1e9)] [--batch B]\n");
    return 2;
  }
  auto p = spec::ParsePipeline(kSpec, "bench_state_memory.yaml");
  if (!p.ok()) return std::fprintf(stderr, "%s\n", p.status().message().c_str()), 1;
  auto cf = features::Compile(*p);
  if (!cf.ok()) return std::fprintf(stderr, "%s\n", cf.status().message().c_str()), 1;
  Measurement m;
  if (!Measure(**cf, keys, batch, &m))
    return std::fprintf(stderr, "bench_state_memory: an event was not admitted\n"), 1;
  Print(m);
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) { return sluice::bench::Main(argc, argv); }
