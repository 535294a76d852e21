#pragma once
// Where the streaming engine's records come from and its outputs go: files (and stdin/stdout) or
// Kafka. A Source hands out chunks of records in log order (file order; per partition, offset
// order) and, once everything a chunk produced has been delivered, makes its progress durable
// (Kafka: commits the offsets; nothing is ever committed before its outputs are delivered, so a
// crash repeats outputs at worst, never loses them). A Sink writes output or dead-letter lines.
// Not thread-safe: the runtime's sequencer thread drives them.
#include <chrono>
#include <cstdint>
#include <functional>
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

namespace sluice::io {
class KafkaProducer;
}  // namespace sluice::io

namespace sluice::engine {

class Source {
 public:
  virtual ~Source() = default;
  // The next records (at most about max_bytes), waiting at most `wait` for the first. Returns
  // false at the end of a finite source; an empty chunk with true means "nothing yet".
  virtual core::Result<bool> Next(io::Chunk* chunk, size_t max_bytes,
                                  std::chrono::milliseconds wait) = 0;
  // Where record i of `chunk` (the last one Next filled) came from, for its dead letter. `d`'s
  // views point into the source (or the chunk) until the next Origin or Next call.
  virtual void Origin(const io::Chunk& chunk, size_t i, io::DeadLetter* d) const = 0;
  // True when the last chunk holds records whose outputs and dead letters were delivered before
  // a restart (Kafka: at or above the checkpoint's offset, below the group's committed one): the
  // runtime applies them to state again and writes nothing for them, so a restart repeats no
  // output it had delivered. A chunk never mixes replayed and new records.
  virtual bool Replaying() const { return false; }
  // The last chunk's outputs and dead letters have been written to the sinks (not necessarily
  // delivered yet): its progress waits for the next Delivered().
  virtual void Sealed() {}
  // Everything written to the sinks so far has been delivered: make the progress of the sealed
  // chunks durable (Kafka: commit their offsets, unless they went into a transaction with
  // AddOffsetsTo; `wait`: until the group has them, else in the background, where a commit
  // lost to a crash only makes its records' outputs repeat). Position() then includes them.
  virtual core::Status Delivered(bool wait) { return core::Status::Ok(); }
  // Called when the source must make its progress durable at once (Kafka: partitions about to be
  // revoked in a rebalance): it delivers what was written and calls Delivered(true).
  virtual void SetDrain(std::function<core::Status()> drain) {}
  // exactly_once: puts the offsets reached by the chunks sealed since the last Delivered() into
  // `producer`'s open transaction, so they commit with its outputs. Kafka sources only.
  virtual core::Status AddOffsetsTo(io::KafkaProducer* producer) {
    return core::Status::InvalidArgument("exactly_once needs a kafka source");
  }
  // What the source has to say since the last call (e.g. offsets lost to retention), for the log.
  virtual std::vector<std::string> TakeWarnings() { return {}; }
  virtual void UpdateMetrics(monitor::Registry* m) const {}
  // Where the source stands after the last chunk (for a checkpoint; `records` is left to the
  // caller), and going back there on restore, before the first Next.
  virtual std::vector<SourcePosition> Position() const = 0;
  virtual core::Status Resume(const std::vector<SourcePosition>& positions) = 0;
  // Restoring an empty state (a state folder with no checkpoint yet): Kafka reads every partition
  // the group has committed from its log start, replaying up to the committed offsets, so the
  // state sees every event still in the log and no delivered output repeats. Files start at
  // their beginning anyway.
  virtual core::Status ResumeEmpty() { return core::Status::Ok(); }
  virtual const std::string& name() const = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // One line of JSON (without its newline); `key` keys Kafka messages (the event id).
  virtual core::Status Write(std::string_view key, std::string_view line) = 0;
  // Blocks until everything written is delivered (file: written out; Kafka: acknowledged).
  virtual core::Status Flush() = 0;
  // Flush() waits for a peer (Kafka): the runtime then flushes a batch while it processes the
  // next one rather than right after writing it.
  virtual bool FlushWaits() const { return false; }
  virtual core::Status Close() = 0;
};

// exactly_once (output.exactly_once, docs/operations.md): one transactional producer for the
// output topic, and for the dead-letter topic when dead letters go to Kafka. A transaction is
// open from Open() on; Commit() commits it together with the source's offsets and opens the
// next, so a read_committed consumer sees a batch's outputs once, and only with its offsets.
// Any failure is returned: the engine stops, and on restart InitTransactions aborts what was
// open, the checkpoint is restored and records up to the committed offsets are replayed without
// output.
class OutputTransaction {
 public:
  // `transactional_id` must be the same across restarts of one engine instance (it fences the
  // instance's previous incarnation) and differ between instances.
  static core::Result<std::unique_ptr<OutputTransaction>> Open(const spec::Pipeline& p,
                                                               const std::string& transactional_id);
  ~OutputTransaction();
  std::unique_ptr<Sink> OutputSink();
  // Null when dead letters do not go to Kafka.
  std::unique_ptr<Sink> DeadLetterSink();
  core::Status Commit(Source* source);

 private:
  struct Impl;
  explicit OutputTransaction(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
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
