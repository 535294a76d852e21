#include "sluice/engine/partition_aligner.h"

#include "sluice/io/record_reader.h"

namespace sluice::engine {

PartitionAligner::PartitionAligner(const spec::Pipeline& p, std::chrono::milliseconds idle,
                                   std::chrono::milliseconds first_idle)
    : idle_(idle),
      first_idle_(first_idle),
      decoder_(io::MakeDecoder(p)),
      values_(p.schema.size()) {}

void PartitionAligner::Assign(int32_t partition, Clock::time_point now) {
  Partition& part = parts_[partition];
  part.last_data = now;
  part.had_data = false;
}

void PartitionAligner::Revoke(int32_t partition) { parts_.erase(partition); }

// The decoders read ahead of a record's end: it is timed in a padded copy (a few hundred bytes
// in a buffer that stays in cache).
int64_t PartitionAligner::TimeOf(std::string_view value, int64_t fallback) {
  if (decoder_->NeedsHeader()) return fallback;  // CSV over Kafka: no header, no alignment
  padded_.reserve(value.size() + io::RecordReader::kPadding);
  padded_.assign(value);
  core::EventTime t;
  arena_.Reset();
  if (!decoder_->DecodeTime(padded_, values_.data(), &arena_, &t)) return fallback;
  return t.micros();
}

void PartitionAligner::Add(int32_t partition, io::KafkaMessage message, Clock::time_point now) {
  Partition& part = parts_[partition];
  Compact(&part);
  const io::KafkaMessageView v = io::KafkaBatch::View(message.get());
  // One partition needs no order among partitions: its times are not read.
  const int64_t time_us =
      parts_.size() > 1 ? TimeOf(v.value, part.last_time_us) : part.last_time_us;
  part.bytes += v.value.size();
  part.entries.push_back({v.offset.value, time_us, std::move(message)});
  part.last_time_us = time_us;
  part.last_data = now;
  part.had_data = true;
}

// Drops the entries handed out: all of them when the partition is drained (the usual case),
// else once they are more than half, so the entries moved stay proportional to those added.
void PartitionAligner::Compact(Partition* part) {
  if (part->head == 0) return;
  if (!part->empty() && part->head * 2 < part->entries.size()) return;
  part->entries.erase(part->entries.begin(), part->entries.begin() + part->head);
  part->head = 0;
}

PartitionAligner::Message PartitionAligner::Head(int32_t partition) const {
  const Entry& e = parts_.at(partition).entries[parts_.at(partition).head];
  return {e.offset, e.time_us, io::KafkaBatch::View(e.message.get()).value};
}

int32_t PartitionAligner::Pick(const std::function<bool(int32_t)>& caught_up,
                               Clock::time_point now) const {
  int32_t best = -1;
  int64_t best_time = 0;
  for (const auto& [p, part] : parts_) {
    if (part.empty()) continue;
    const int64_t t = part.entries[part.head].time_us;
    if (best < 0 || t < best_time) {
      best = p;
      best_time = t;
    }
  }
  if (best < 0) return -1;
  for (const auto& [p, part] : parts_) {
    if (!part.empty() || caught_up(p) ||
        now - part.last_data >= (part.had_data ? idle_ : first_idle_)) {
      continue;
    }
    return -1;  // p may still bring something older than best's head
  }
  return best;
}

void PartitionAligner::Pop(int32_t partition) {
  Partition& part = parts_.at(partition);
  Entry& e = part.entries[part.head];
  part.bytes -= e.message->len;
  e.message.reset();  // its fetch buffer may go
  ++part.head;
  if (part.empty()) part.last_data = Clock::now();  // idle counts from here
}

size_t PartitionAligner::buffered_bytes(int32_t partition) const {
  auto it = parts_.find(partition);
  return it == parts_.end() ? 0 : it->second.bytes;
}

bool PartitionAligner::empty() const {
  for (const auto& [p, part] : parts_) {
    if (!part.empty()) return false;
  }
  return true;
}

}  // namespace sluice::engine
