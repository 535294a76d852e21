#include "sluice/core/value.h"

namespace sluice::core {

const char* FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "string";
    case FieldType::kDouble:
      return "double";
    case FieldType::kInt:
      return "int";
    case FieldType::kBool:
      return "bool";
  }
  return "?";
}

bool IsNumeric(FieldType t) { return t != FieldType::kString; }

}  // namespace sluice::core
