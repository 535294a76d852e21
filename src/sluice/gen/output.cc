#include "sluice/gen/output.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <string_view>

namespace sluice::gen {
namespace {

constexpr double kSlightlyLateShare = 0.01;
constexpr double kVeryLateShare = 0.0005;
constexpr double kFalseChargebackShare = 0.0005;
constexpr double kUnreportedEpisodeShare = 0.07;  // the card holder never notices
constexpr double kUnreportedTxnShare = 0.035;     // noticed the rest, missed this one
constexpr size_t kBufferBytes = 1 << 20;
constexpr size_t kMaxRecordBytes = 512;

// The latest newer event of the same user or merchant that is beyond the allowed lateness,
// or -1. Only the immediately next event of each key is known here, which is enough: a very
// late record only needs one such event to arrive before it.
int64_t OvertakingTime(int64_t ts, int64_t next_user, int64_t next_merchant) {
  int64_t best = -1;
  for (int64_t next : {next_user, next_merchant}) {
    if (next - ts > kAllowedLatenessMs && next - ts <= kDayMs && (best < 0 || next < best)) {
      best = next;
    }
  }
  return best;
}

char* Put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* PutInt(char* p, int64_t v) { return std::to_chars(p, p + 24, v).ptr; }

char* PutPadded(char* p, int64_t v, int width) {
  char digits[24];
  const char* end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  for (int n = static_cast<int>(end - digits); n < width; ++n) *p++ = '0';
  return Put(p, std::string_view(digits, end - digits));
}

// `scaled` / 10^decimals in fixed notation; with `trim`, trailing zeros go (one digit stays).
char* PutFixed(char* p, int64_t scaled, int decimals, bool trim) {
  if (scaled < 0) {
    *p++ = '-';
    scaled = -scaled;
  }
  int64_t unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  p = PutInt(p, scaled / unit);
  *p++ = '.';
  int64_t frac = scaled % unit;
  char* first = p;
  for (int i = decimals - 1; i >= 0; --i, frac /= 10) first[i] = static_cast<char>('0' + frac % 10);
  p += decimals;
  while (trim && p - first > 1 && p[-1] == '0') --p;
  return p;
}

}  // namespace

std::vector<int32_t> AssignArrivals(std::vector<Txn>* txns, size_t users, size_t merchants,
                                    Rng& rng) {
  std::vector<Txn>& t = *txns;
  const int32_t n = static_cast<int32_t>(t.size());
  std::vector<uint8_t> very_late(n, 0);
  for (int32_t i = 0; i < n; ++i) {
    t[i].arrival = t[i].ts;
    const double r = rng.Uniform();
    if (r < kVeryLateShare) {
      very_late[i] = 1;
    } else if (r < kVeryLateShare + kSlightlyLateShare) {
      t[i].arrival = t[i].ts + rng.Between(2000, 120000);
    }
  }
  // Walk backwards so each key's next event time is known when a very late record is placed.
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max() / 2;
  std::vector<int64_t> next_user(users, kNever), next_merchant(merchants, kNever);
  for (int32_t i = n - 1; i >= 0; --i) {
    if (very_late[i]) {
      const int64_t overtaken =
          OvertakingTime(t[i].ts, next_user[t[i].user], next_merchant[t[i].merchant]);
      // Arrive after the overtaking event even if that one is itself up to 2 minutes late.
      t[i].arrival = overtaken >= 0 ? overtaken + 120001 + rng.Below(10 * kMinuteMs)
                                    : t[i].ts + rng.Between(6 * kMinuteMs, 2 * kHourMs);
    }
    next_user[t[i].user] = t[i].ts;
    next_merchant[t[i].merchant] = t[i].ts;
  }
  // On-time records are already in arrival order; merge the delayed ones in.
  std::vector<int32_t> on_time, delayed;
  for (int32_t i = 0; i < n; ++i) (t[i].arrival == t[i].ts ? on_time : delayed).push_back(i);
  auto earlier = [&t](int32_t a, int32_t b) {
    return t[a].arrival != t[b].arrival ? t[a].arrival < t[b].arrival : a < b;
  };
  std::sort(delayed.begin(), delayed.end(), earlier);
  std::vector<int32_t> order(n);
  std::merge(on_time.begin(), on_time.end(), delayed.begin(), delayed.end(), order.begin(),
             earlier);
  return order;
}

Disorder CountDisorder(const std::vector<Txn>& txns, const std::vector<int32_t>& order,
                       size_t users, size_t merchants) {
  constexpr int64_t kUnseen = std::numeric_limits<int64_t>::min() / 2;
  std::vector<int64_t> user_newest(users, kUnseen), merchant_newest(merchants, kUnseen);
  int64_t newest = kUnseen;
  Disorder d;
  for (int32_t i : order) {
    const Txn& t = txns[i];
    // A late record changes no state in the engine, so it does not move the keys' newest time.
    if (t.ts < user_newest[t.user] - kAllowedLatenessMs ||
        t.ts < merchant_newest[t.merchant] - kAllowedLatenessMs) {
      ++d.late;
      continue;
    }
    if (t.ts < newest) ++d.out_of_order;
    newest = std::max(newest, t.ts);
    user_newest[t.user] = std::max(user_newest[t.user], t.ts);
    merchant_newest[t.merchant] = std::max(merchant_newest[t.merchant], t.ts);
  }
  return d;
}

std::vector<Label> MakeLabels(const std::vector<Txn>& txns, int32_t episodes, Rng& rng,
                              LabelCounts* counts) {
  constexpr int64_t kUndecided = -1, kUnreported = -2;
  std::vector<int64_t> episode_delay(episodes, kUndecided);
  std::vector<Label> labels;
  for (size_t i = 0; i < txns.size(); ++i) {
    const Txn& t = txns[i];
    int64_t delay;
    if (t.kind != FraudKind::kNone) {
      // One card holder disputes an episode at once, so its labels land close together.
      int64_t& base = episode_delay[t.episode];
      if (base == kUndecided) {
        base = rng.Chance(kUnreportedEpisodeShare)
                   ? kUnreported
                   : static_cast<int64_t>(std::clamp(rng.LogNormal(9.0, 0.75), 1.0, 44.0) * kDayMs);
      }
      if (base == kUnreported || rng.Chance(kUnreportedTxnShare)) {
        ++counts->unreported_fraud;
        continue;
      }
      delay = std::min(base + rng.Below(kDayMs), 45 * kDayMs);
    } else if (rng.Chance(kFalseChargebackShare)) {
      delay = rng.Between(3 * kDayMs, 45 * kDayMs);  // "friendly fraud"
      ++counts->false_chargebacks;
    } else {
      continue;
    }
    labels.push_back(Label{t.ts + delay, static_cast<int64_t>(i) + 1});
  }
  std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.txn_number < b.txn_number;
  });
  return labels;
}

JsonlFile::~JsonlFile() {
  if (file_ != nullptr) std::fclose(file_);
}

core::Status JsonlFile::Open(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    return core::Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  }
  buf_.resize(kBufferBytes + kMaxRecordBytes);
  return core::Status::Ok();
}

char* JsonlFile::Reserve() {
  if (used_ + kMaxRecordBytes > buf_.size()) Flush();
  return buf_.data() + used_;
}

void JsonlFile::Flush() {
  if (used_ > 0 && error_ == 0 && std::fwrite(buf_.data(), 1, used_, file_) != used_) {
    error_ = errno != 0 ? errno : EIO;
  }
  used_ = 0;
}

core::Status JsonlFile::Close() {
  if (file_ == nullptr) return core::Status::Ok();
  Flush();
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (error_ == 0 && closed != 0) error_ = errno != 0 ? errno : EIO;
  if (error_ != 0)
    return core::Status::IoError("cannot write " + path_ + ": " + std::strerror(error_));
  return core::Status::Ok();
}

void JsonlFile::WriteEvent(const Txn& t, int64_t txn_number, const World& world,
                           const IdWidths& widths) {
  const Merchant& m = world.merchants()[t.merchant];
  char* p = Reserve();
  p = Put(p, "{\"txn_id\":\"t");
  p = PutPadded(p, txn_number, widths.txn);
  p = Put(p, "\",\"ts\":");
  p = PutInt(p, t.ts);
  p = Put(p, ",\"user_id\":\"u");
  p = PutPadded(p, t.user, widths.user);
  p = Put(p, "\",\"merchant_id\":\"m");
  p = PutPadded(p, t.merchant, widths.merchant);
  p = Put(p, "\",\"category\":\"");
  p = Put(p, CategoryOf(m.category).name);
  p = Put(p, "\",\"amount\":");
  p = PutFixed(p, t.amount_cents, 2, false);
  p = Put(p, ",\"lat\":");
  p = PutFixed(p, t.lat_e4, 4, true);
  p = Put(p, ",\"lon\":");
  p = PutFixed(p, t.lon_e4, 4, true);
  p = Put(p, ",\"channel\":\"");
  p = Put(p, ChannelName(m.channel));
  p = Put(p, "\"}\n");
  used_ = p - buf_.data();
}

void JsonlFile::WriteLabel(const Label& label, const IdWidths& widths) {
  char* p = Reserve();
  p = Put(p, "{\"txn_id\":\"t");
  p = PutPadded(p, label.txn_number, widths.txn);
  p = Put(p, "\",\"is_fraud\":1,\"ts\":");
  p = PutInt(p, label.ts);
  p = Put(p, "}\n");
  used_ = p - buf_.data();
}

}  // namespace sluice::gen
