#include "sluice/features/keys.h"

#include <cstring>

namespace sluice::features {

namespace {

void Put(char** p, const void* src, size_t n) {
  std::memcpy(*p, src, n);
  *p += n;
}

}  // namespace

KeyRef EncodeKey(const KeySpaceDef& ks, const core::Value* fields, io::StringArena* arena) {
  KeyRef k;
  using Kind = core::Value::Kind;
  if (ks.fields.size() == 1 && fields[ks.fields[0]].kind == Kind::kString) {
    k.bytes = fields[ks.fields[0]].s;
  } else {
    size_t size = 0;
    for (int f : ks.fields) {
      const core::Value& v = fields[f];
      if (v.is_null()) return k;
      size += 1 + 4 + (v.kind == Kind::kString ? v.s.size() : 8);
    }
    char* start = arena->Allocate(size);
    char* p = start;
    for (int f : ks.fields) {
      const core::Value& v = fields[f];
      const char tag = static_cast<char>(v.kind);
      Put(&p, &tag, 1);
      if (v.kind == Kind::kString) {
        const uint32_t n = static_cast<uint32_t>(v.s.size());
        Put(&p, &n, 4);
        Put(&p, v.s.data(), v.s.size());
        continue;
      }
      const uint32_t n = 8;
      Put(&p, &n, 4);
      int64_t bits = v.kind == Kind::kInt ? v.i : v.kind == Kind::kBool ? v.b : 0;
      if (v.kind == Kind::kDouble) {
        double d = v.d == 0 ? 0.0 : v.d;
        std::memcpy(&bits, &d, 8);
      }
      Put(&p, &bits, 8);
    }
    k.bytes = std::string_view(start, size);
  }
  if (ks.fields.size() == 1 && fields[ks.fields[0]].is_null()) return k;
  k.null = false;
  k.hash = XXH3_64bits(k.bytes.data(), k.bytes.size());
  return k;
}

}  // namespace sluice::features
