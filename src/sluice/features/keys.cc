#include "sluice/features/keys.h"

#include <cstring>

namespace sluice::features {

namespace {

void Put(char** p, const void* src, size_t n) {
  std::memcpy(*p, src, n);
  *p += n;
}

}  // namespace

// Composite keys: per component a type tag, a length (one byte below 128, else 0x80 then four
// bytes) and the bytes, so distinct tuples never collide and typical keys stay within
// std::string's inline buffer (no allocation per stored key).
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
      const size_t n = v.kind == Kind::kString ? v.s.size() : 8;
      size += 1 + (n < 128 ? 1 : 5) + n;
    }
    char* start = arena->Allocate(size);
    char* p = start;
    for (int f : ks.fields) {
      const core::Value& v = fields[f];
      const char tag = static_cast<char>(v.kind);
      Put(&p, &tag, 1);
      int64_t bits = v.kind == Kind::kInt ? v.i : v.kind == Kind::kBool ? v.b : 0;
      if (v.kind == Kind::kDouble) {
        double d = v.d == 0 ? 0.0 : v.d;
        std::memcpy(&bits, &d, 8);
      }
      const std::string_view bytes =
          v.kind == Kind::kString ? v.s : std::string_view(reinterpret_cast<const char*>(&bits), 8);
      if (bytes.size() < 128) {
        const uint8_t n = static_cast<uint8_t>(bytes.size());
        Put(&p, &n, 1);
      } else {
        const uint8_t mark = 0x80;
        const uint32_t n = static_cast<uint32_t>(bytes.size());
        Put(&p, &mark, 1);
        Put(&p, &n, 4);
      }
      Put(&p, bytes.data(), bytes.size());
    }
    k.bytes = std::string_view(start, size);
  }
  if (ks.fields.size() == 1 && fields[ks.fields[0]].is_null()) return k;
  k.null = false;
  k.hash = XXH3_64bits(k.bytes.data(), k.bytes.size());
  return k;
}

}  // namespace sluice::features
