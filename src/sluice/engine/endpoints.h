#pragma once
// Where the streaming engine's records come from and its outputs go: files (and stdin/stdout) or
// Kafka. A Source hands out chunks of records in log order (file order; per partition, offset
// order) and, once everything a chunk produced has been delivered, makes its progress durable
// (Kafka: commits the offsets; nothing is ever committed before its outputs are delivered, so a
// crash repeats outputs at worst, never loses them). A Sink writes output or dead-letter lines.
// Not thread-safe: the runtime's sequencer thread drives them.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/status.h"
#include "sluice/engine/checkpoint_store.h"
#include "sluice/io/dead_letter.h"
#include "sluice/io/kafka_types.h"
#include "sluice/io/record_reader.h"
#include "sluice/monitor/metrics.h"
#include "sluice/spec/pipeline.h"

namespace sluice::engine {

class Source {
 public:
  virtual ~Source() = default;
  // The next records (at most about max_bytes), waiting at most `wait` for the first. Returns
  // false at the end of a finite source; an empty chunk with true means "nothing yet".
  virtual core::Result<bool> Next(io::Chunk* chunk, size_t max_bytes,
                                  std::chrono::milliseconds wait) = 0;
  // Where record i of `chunk` (the last one Next filled) came from, for its dead letter.
  virtual void Origin(const io::Chunk& chunk, size_t i, io::DeadLetter* d) const = 0;
  // Everything the last chunk produced has been delivered: make its progress durable.
  virtual core::Status Delivered() { return core::Status::Ok(); }
  virtual void UpdateMetrics(monitor::Registry* m) const {}
  // Where the source stands after the last chunk (for a checkpoint; `records` is left to the
  // caller), and going back there on restore, before the first Next.
  virtual std::vector<SourcePosition> Position() const = 0;
  virtual core::Status Resume(const std::vector<SourcePosition>& positions) = 0;
  virtual const std::string& name() const = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // One line of JSON (without its newline); `key` keys Kafka messages (the event id).
  virtual core::Status Write(std::string_view key, std::string_view line) = 0;
  // Blocks until everything written is delivered (file: written out; Kafka: acknowledged).
  virtual core::Status Flush() = 0;
  virtual core::Status Close() = 0;
};

struct SourceOptions {
  std::string input;    // overrides source.file ("-" = stdin); when set, Kafka is not used
  bool follow = false;  // files: keep reading as the file grows
};

core::Result<std::unique_ptr<Source>> OpenSource(const spec::Pipeline& p, const SourceOptions& o);
// `path` names the sink's file ("-" = stdout); `kafka` is used when no path is given; with
// neither, the sink is `fallback` ("-" for outputs; "" for dead letters: counted, not written).
core::Result<std::unique_ptr<Sink>> OpenSink(const std::string& path,
                                             const std::optional<spec::KafkaSpec>& kafka,
                                             const std::string& fallback);

}  // namespace sluice::engine
