#pragma once
// The typed schema of a pipeline's events: the declared fields plus the event-time field.
// Immutable after construction; safe to share across threads.
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/time.h"
#include "sluice/core/value.h"

namespace sluice::core {

struct FieldDef {
  std::string name;
  FieldType type;
};

class Schema {
 public:
  Schema() = default;
  // `fields` are the declared fields; the event-time field is added when not declared.
  Schema(std::vector<FieldDef> fields, std::string time_field, TimeUnit unit);

  size_t size() const { return fields_.size(); }
  const FieldDef& field(size_t i) const { return fields_[i]; }
  const std::vector<FieldDef>& fields() const { return fields_; }
  // Index of the field, or -1. A small hash of (length, first, last byte) narrows the search to
  // one comparison in practice: decoders call this once per JSON key.
  int Find(std::string_view name) const {
    if (name.empty()) return SlowFind(name);
    for (int i = index_[Bucket(name)]; i >= 0; i = next_[i]) {
      if (fields_[i].name == name) return i;
    }
    return -1;
  }
  int time_index() const { return time_index_; }
  TimeUnit time_unit() const { return unit_; }

 private:
  static constexpr size_t kBuckets = 64;
  static size_t Bucket(std::string_view n) {
    return (n.size() * 31 + static_cast<unsigned char>(n.front()) * 7 +
            static_cast<unsigned char>(n.back())) %
           kBuckets;
  }
  int SlowFind(std::string_view name) const;
  void BuildIndex();

  std::vector<FieldDef> fields_;
  std::vector<int> index_ = std::vector<int>(kBuckets, -1);  // bucket -> first field
  std::vector<int> next_;                                    // field -> next in its bucket
  int time_index_ = -1;
  TimeUnit unit_ = TimeUnit::kMillis;
};

}  // namespace sluice::core
