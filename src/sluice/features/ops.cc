#include "sluice/features/ops.h"

#include <cmath>
#include <limits>

namespace sluice::features {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

int OpWidth(OpKind k) {
  switch (k) {
    case OpKind::kMean:
    case OpKind::kFirst:
    case OpKind::kLast:
      return 2;
    case OpKind::kVar:
    case OpKind::kEwma:
      return 3;
    default:
      return 1;
  }
}

int Ops::Add(OpKind kind, int slot, double half_life_us) {
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& o = ops_[i];
    if (o.kind == kind && o.slot == slot && o.half_life_us == half_life_us)
      return static_cast<int>(i);
  }
  ops_.push_back(Op{kind, slot, width_, half_life_us});
  width_ += OpWidth(kind);
  return static_cast<int>(ops_.size()) - 1;
}

void Ops::Identity(double* p) const {
  for (const Op& o : ops_) {
    double* q = p + o.offset;
    switch (o.kind) {
      case OpKind::kMin:
      case OpKind::kMax:
        q[0] = kNaN;
        break;
      case OpKind::kFirst:
        q[0] = kInf;
        q[1] = kNaN;
        break;
      case OpKind::kLast:
        q[0] = -kInf;
        q[1] = kNaN;
        break;
      case OpKind::kEwma:
        q[0] = 0;
        q[1] = 0;
        q[2] = -kInf;
        break;
      case OpKind::kMaxTime:
        q[0] = -kInf;
        break;
      case OpKind::kMean:
        q[0] = q[1] = 0;
        break;
      case OpKind::kVar:
        q[0] = q[1] = q[2] = 0;
        break;
      default:
        q[0] = 0;
    }
  }
}

void Ops::Lift(int64_t time_us, int64_t seq, const Slot* slots, double* p) const {
  for (const Op& o : ops_) {
    double* q = p + o.offset;
    const double x = o.slot >= 0 ? slots[o.slot].d : kNaN;
    const bool has = !std::isnan(x);
    switch (o.kind) {
      case OpKind::kCountAll:
        q[0] = 1;
        break;
      case OpKind::kCountOf:
        q[0] = has ? 1 : 0;
        break;
      case OpKind::kSum:
        q[0] = has ? x : 0;
        break;
      case OpKind::kMean:
        q[0] = has ? 1 : 0;
        q[1] = has ? x : 0;
        break;
      case OpKind::kVar:
        q[0] = has ? 1 : 0;
        q[1] = has ? x : 0;
        q[2] = 0;
        break;
      case OpKind::kMin:
      case OpKind::kMax:
        q[0] = x;
        break;
      case OpKind::kFirst:
        q[0] = has ? static_cast<double>(seq) : kInf;
        q[1] = x;
        break;
      case OpKind::kLast:
        q[0] = has ? static_cast<double>(seq) : -kInf;
        q[1] = x;
        break;
      case OpKind::kEwma:
        q[0] = has ? x : 0;
        q[1] = has ? 1 : 0;
        q[2] = has ? static_cast<double>(time_us) : -kInf;
        break;
      case OpKind::kMaxTime:
        q[0] = static_cast<double>(time_us);
        break;
    }
  }
}

namespace {

void CombineVar(double* a, const double* b) {
  if (b[0] == 0) return;
  if (a[0] == 0) {
    a[0] = b[0];
    a[1] = b[1];
    a[2] = b[2];
    return;
  }
  const double n = a[0] + b[0];
  const double delta = b[1] - a[1];
  a[1] += delta * b[0] / n;
  a[2] += b[2] + delta * delta * a[0] * b[0] / n;
  a[0] = n;
}

void CombineEwma(double* a, const double* b, double h) {
  if (b[1] == 0) return;
  if (a[1] == 0) {
    a[0] = b[0];
    a[1] = b[1];
    a[2] = b[2];
    return;
  }
  // Rescale both to the later reference time; only the ratio A/B is ever read.
  const double t = a[2] > b[2] ? a[2] : b[2];
  const double fa = std::exp2((a[2] - t) / h);
  const double fb = std::exp2((b[2] - t) / h);
  a[0] = a[0] * fa + b[0] * fb;
  a[1] = a[1] * fa + b[1] * fb;
  a[2] = t;
}

}  // namespace

void Ops::Combine(double* acc, const double* other) const {
  for (const Op& o : ops_) {
    double* a = acc + o.offset;
    const double* b = other + o.offset;
    switch (o.kind) {
      case OpKind::kCountAll:
      case OpKind::kCountOf:
      case OpKind::kSum:
        a[0] += b[0];
        break;
      case OpKind::kMean:
        a[0] += b[0];
        a[1] += b[1];
        break;
      case OpKind::kVar:
        CombineVar(a, b);
        break;
      case OpKind::kMin:
        a[0] = std::fmin(a[0], b[0]);
        break;
      case OpKind::kMax:
        a[0] = std::fmax(a[0], b[0]);
        break;
      case OpKind::kFirst:
        if (b[0] < a[0]) {
          a[0] = b[0];
          a[1] = b[1];
        }
        break;
      case OpKind::kLast:
        if (b[0] > a[0]) {
          a[0] = b[0];
          a[1] = b[1];
        }
        break;
      case OpKind::kEwma:
        CombineEwma(a, b, o.half_life_us);
        break;
      case OpKind::kMaxTime:
        if (b[0] > a[0]) a[0] = b[0];
        break;
    }
  }
}

}  // namespace sluice::features
