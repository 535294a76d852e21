#pragma once
// StrongInt<Tag>: an int64 that cannot be mixed with other StrongInts (Redpanda's named_type).
#include <compare>
#include <cstdint>
#include <functional>

namespace sluice::core {

template <typename Tag>
class StrongInt {
 public:
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(int64_t v) : v_(v) {}
  constexpr int64_t value() const { return v_; }
  constexpr auto operator<=>(const StrongInt&) const = default;

 private:
  int64_t v_ = 0;
};

}  // namespace sluice::core

template <typename Tag>
struct std::hash<sluice::core::StrongInt<Tag>> {
  size_t operator()(const sluice::core::StrongInt<Tag>& s) const noexcept {
    return std::hash<int64_t>()(s.value());
  }
};
