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
  // Index of the field, or -1.
  int Find(std::string_view name) const;
  int time_index() const { return time_index_; }
  TimeUnit time_unit() const { return unit_; }

 private:
  std::vector<FieldDef> fields_;
  int time_index_ = -1;
  TimeUnit unit_ = TimeUnit::kMillis;
};

}  // namespace sluice::core
