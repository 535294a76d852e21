#include "sluice/engine/partition_aligner.h"

#include "sluice/io/record_reader.h"

namespace sluice::engine {

PartitionAligner::PartitionAligner(const spec::Pipeline& p, std::chrono::milliseconds idle,
                                   std::chrono::milliseconds first_idle)
    : idle_(idle), first_idle_(first_idle), decoder_(io::MakeDecoder(p)), values_(p.schema.size()) {}

void PartitionAligner::Assign(int32_t partition, Clock::time_point now) {
  Partition& part = parts_[partition];
  part.last_data = now;
  part.had_data = false;
}

void PartitionAligner::Revoke(int32_t partition) { parts_.erase(partition); }

int64_t PartitionAligner::TimeOf(std::string_view padded, int64_t fallback) {
  if (decoder_->NeedsHeader()) return fallback;  // CSV over Kafka: no header, no alignment
  core::EventTime t;
  io::DecodeError err;
  arena_.Reset();
  if (!decoder_->Decode(padded, values_.data(), &t, &arena_, &err)) return fallback;
  return t.micros();
}

void PartitionAligner::Add(int32_t partition, int64_t offset, std::string_view value,
                           Clock::time_point now) {
  Partition& part = parts_[partition];
  Message m;
  m.offset = offset;
  m.value.reserve(value.size() + io::RecordReader::kPadding);
  m.value.assign(value);
  // One partition needs no order among partitions: its times are not read.
  m.time_us = parts_.size() > 1 ? TimeOf(m.value, part.last_time_us) : part.last_time_us;
  part.last_time_us = m.time_us;
  part.bytes += m.value.size();
  part.last_data = now;
  part.had_data = true;
  part.queue.push_back(std::move(m));
}

int32_t PartitionAligner::Pick(const std::function<bool(int32_t)>& caught_up,
                               Clock::time_point now) const {
  int32_t best = -1;
  int64_t best_time = 0;
  for (const auto& [p, part] : parts_) {
    if (part.queue.empty()) continue;
    if (best < 0 || part.queue.front().time_us < best_time) {
      best = p;
      best_time = part.queue.front().time_us;
    }
  }
  if (best < 0) return -1;
  for (const auto& [p, part] : parts_) {
    if (!part.queue.empty() || caught_up(p) ||
        now - part.last_data >= (part.had_data ? idle_ : first_idle_)) {
      continue;
    }
    return -1;  // p may still bring something older than best's head
  }
  return best;
}

void PartitionAligner::Pop(int32_t partition) {
  Partition& part = parts_.at(partition);
  part.bytes -= part.queue.front().value.size();
  part.queue.pop_front();
  if (part.queue.empty()) part.last_data = Clock::now();  // idle counts from here
}

size_t PartitionAligner::buffered_bytes(int32_t partition) const {
  auto it = parts_.find(partition);
  return it == parts_.end() ? 0 : it->second.bytes;
}

bool PartitionAligner::empty() const {
  for (const auto& [p, part] : parts_) {
    if (!part.queue.empty()) return false;
  }
  return true;
}

}  // namespace sluice::engine
