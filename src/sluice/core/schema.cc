#include "sluice/core/schema.h"

namespace sluice::core {

Schema::Schema(std::vector<FieldDef> fields, std::string time_field, TimeUnit unit)
    : fields_(std::move(fields)), unit_(unit) {
  time_index_ = SlowFind(time_field);
  if (time_index_ < 0) {
    // How the time is written (number or string) is decided by `unit`, not by this type.
    FieldType t = unit == TimeUnit::kIso8601 ? FieldType::kString : FieldType::kDouble;
    fields_.push_back({std::move(time_field), t});
    time_index_ = static_cast<int>(fields_.size()) - 1;
  }
  BuildIndex();
}

void Schema::BuildIndex() {
  next_.assign(fields_.size(), -1);
  for (int i = static_cast<int>(fields_.size()) - 1; i >= 0; --i) {
    if (fields_[i].name.empty()) continue;
    size_t b = Bucket(fields_[i].name);
    next_[i] = index_[b];
    index_[b] = i;
  }
}

int Schema::SlowFind(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace sluice::core
