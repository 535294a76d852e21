// bench_parse: the limit backfill is measured against. Reads a JSONL (or CSV) file with the same
// RecordReader and decoder the engine builds for SPEC, decodes every record into typed values,
// and does nothing else: no admission, no state, no output. With --threads N the records of each
// chunk are decoded in parallel, as backfill does, while reading stays on one thread.
//
//   bench_parse SPEC --input FILE [--threads N] [--chunk-bytes B] [--read-only]
//
// --read-only splits records without decoding them: the reader's share of the limit, which stays
// on one thread whatever --threads is.
// Prints one JSON object: records, decoded, failed, bytes, seconds, events_per_s, mb_per_s.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "sluice/engine/thread_pool.h"
#include "sluice/io/decoder.h"
#include "sluice/io/record_reader.h"
#include "sluice/spec/pipeline.h"

namespace sluice::bench {
namespace {

struct Options {
  std::string spec, input;
  int threads = 1;
  size_t chunk_bytes = 4 << 20;  // backfill's default
  bool read_only = false;
};

struct Counts {
  int64_t records = 0, decoded = 0, failed = 0, bytes = 0;
  int64_t time_checksum = 0;  // keeps the decoded values observable
};

// What one decoding thread owns, as in backfill: its decoder, its string arena, its values.
struct Worker {
  std::unique_ptr<io::Decoder> decoder;
  io::StringArena arena;
  int64_t decoded = 0, failed = 0, time_checksum = 0;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--input" && has_value)
      o->input = argv[++i];
    else if (a == "--threads" && has_value)
      o->threads = std::atoi(argv[++i]);
    else if (a == "--chunk-bytes" && has_value)
      o->chunk_bytes = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--read-only")
      o->read_only = true;
    else if (!a.empty() && a[0] != '-' && o->spec.empty())
      o->spec = a;
    else
      return false;
  }
  return !o->spec.empty() && !o->input.empty() && o->threads >= 1;
}

// Decodes records [lo, hi) of the chunk into `values` (schema-size values per record).
void DecodeRange(const io::Chunk& chunk, size_t lo, size_t hi, size_t nf, core::Value* values,
                 Worker* w) {
  w->arena.Reset();
  io::DecodeError err;
  core::EventTime t;
  for (size_t i = lo; i < hi; ++i) {
    const io::Record& r = chunk.records[i];
    if (r.oversize) {
      ++w->failed;
      continue;
    }
    if (w->decoder->Decode(chunk.Text(r), &values[i * nf], &t, &w->arena, &err)) {
      ++w->decoded;
      w->time_checksum += t.micros();
    } else {
      ++w->failed;
      err = io::DecodeError();
    }
  }
}

core::Result<Counts> Run(const spec::Pipeline& p, const Options& o) {
  const auto framing = p.source.format == spec::Format::kCsv ? io::RecordReader::Framing::kCsv
                                                             : io::RecordReader::Framing::kLines;
  auto reader = io::RecordReader::Open(o.input, framing, p.source.max_record_bytes);
  if (!reader.ok()) return reader.status();
  engine::ThreadPool pool(o.threads);
  std::vector<Worker> workers(o.threads);
  for (auto& w : workers) w.decoder = io::MakeDecoder(p);
  const size_t nf = p.schema.size();
  io::Chunk chunk;
  std::vector<core::Value> values;
  Counts c;
  bool header = workers[0].decoder->NeedsHeader();
  for (bool more = true; more;) {
    auto next = (*reader)->Next(&chunk, o.chunk_bytes);
    if (!next.ok()) return next.status();
    more = *next;
    if (header && !chunk.records.empty()) {
      for (auto& w : workers)
        SLUICE_RETURN_IF_ERROR(w.decoder->SetHeader(chunk.Text(chunk.records[0])));
      chunk.records.erase(chunk.records.begin());
      header = false;
    }
    const size_t n = chunk.records.size();
    c.records += static_cast<int64_t>(n);
    values.resize(n * nf);
    if (o.read_only) continue;
    pool.Run(o.threads, [&](int task) {
      DecodeRange(chunk, n * task / o.threads, n * (task + 1) / o.threads, nf, values.data(),
                  &workers[task]);
    });
  }
  for (const auto& w : workers) {
    c.decoded += w.decoded;
    c.failed += w.failed;
    c.time_checksum += w.time_checksum;
  }
  c.bytes = (*reader)->bytes_read();
  return c;
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(
        stderr,
        "usage: bench_parse SPEC --input FILE [--threads N] [--chunk-bytes B] [--read-only]\n");
    return 2;
  }
  auto p = spec::LoadPipeline(o.spec);
  if (!p.ok()) {
    std::fprintf(stderr, "bench_parse: %s\n", p.status().message().c_str());
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  auto c = Run(*p, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!c.ok()) {
    std::fprintf(stderr, "bench_parse: %s\n", c.status().message().c_str());
    return 1;
  }
  std::printf(
      "{\"records\": %lld, \"decoded\": %lld, \"failed\": %lld, \"bytes\": %lld, \"threads\": %d, "
      "\"seconds\": %.6f, \"events_per_s\": %.1f, \"mb_per_s\": %.2f, \"time_checksum\": %lld}\n",
      static_cast<long long>(c->records), static_cast<long long>(c->decoded),
      static_cast<long long>(c->failed), static_cast<long long>(c->bytes), o.threads, s,
      static_cast<double>(c->records) / s, static_cast<double>(c->bytes) / s / 1e6,
      static_cast<long long>(c->time_checksum));
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) { return sluice::bench::Main(argc, argv); }
