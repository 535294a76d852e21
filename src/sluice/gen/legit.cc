#include "sluice/gen/legit.h"

#include <algorithm>
#include <cmath>

namespace sluice::gen {
namespace {

// Card holders live in US metros; one local clock (UTC-5) is close enough for the rhythm.
constexpr int64_t kLocalOffsetMs = -5 * kHourMs;
constexpr double kHourWeight[24] = {0.15, 0.08, 0.05, 0.04, 0.05, 0.12, 0.35, 0.7,
                                    1.0,  1.1,  1.2,  1.5,  1.8,  1.6,  1.3,  1.25,
                                    1.35, 1.6,  1.8,  1.7,  1.4,  1.0,  0.6,  0.3};
constexpr double kWeekdayWeight[7] = {0.95, 0.95, 1.0, 1.0, 1.15, 1.25, 1.0};  // Monday first

int LocalHour(int64_t ms) {
  const int64_t local = ms + kLocalOffsetMs;
  return static_cast<int>(((local / kHourMs) % 24 + 24) % 24);
}

double RhythmWeight(int64_t hour_start_ms) {
  const int64_t local = hour_start_ms + kLocalOffsetMs;
  const int64_t days = local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs;
  const int weekday = static_cast<int>(((days + 3) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  return kHourWeight[LocalHour(hour_start_ms)] * kWeekdayWeight[weekday];
}

constexpr double kFollowUpChance = 0.12;  // pays again soon after a purchase
constexpr double kGamingFollowUpChance = 0.45;
constexpr int32_t kMicroPrices[] = {99, 199, 299, 499, 999};

}  // namespace

std::vector<int64_t> RhythmTimes(int64_t count, int64_t start_ms, int64_t end_ms, Rng& rng) {
  std::vector<int64_t> times(count);
  if (count == 0) return times;
  // Sorted uniforms as normalised sums of exponential gaps, pushed through the inverse of the
  // piecewise-constant (hourly) rhythm: O(n) and already in order, no sort needed.
  std::vector<double> sums(count);
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) sums[i] = (sum += rng.Exponential(1.0));
  sum += rng.Exponential(1.0);
  const int64_t hours = std::max<int64_t>(1, (end_ms - start_ms) / kHourMs);
  std::vector<double> cumulative(hours);
  double total = 0;
  for (int64_t h = 0; h < hours; ++h)
    cumulative[h] = (total += RhythmWeight(start_ms + h * kHourMs));
  int64_t h = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double x = sums[i] / sum * total;
    while (h + 1 < hours && cumulative[h] <= x) ++h;
    const double below = h == 0 ? 0 : cumulative[h - 1];
    const double within = std::clamp((x - below) / (cumulative[h] - below), 0.0, 1.0);
    times[i] = start_ms + h * kHourMs + static_cast<int64_t>(within * (kHourMs - 1));
  }
  return times;
}

LegitStream::LegitStream(const World& world, uint64_t seed, int64_t drift_ms)
    : world_(world), rng_(Rng::Stream(seed, 2)), drift_ms_(drift_ms) {
  PlanRushes();
}

void LegitStream::PlanRushes() {
  // A few times a day some shop gets crowded (a game night, a sale): many different cards at one
  // merchant within minutes, which is what card testing looks like from the merchant's side.
  const int64_t span = world_.end_ms() - world_.start_ms();
  const int64_t wanted = 3 * span / kDayMs;
  constexpr int kRushCategories[] = {kRestaurant, kCafe, kApparel, kElectronics, kGrocery};
  std::vector<Rush> rushes;
  for (int64_t i = 0; i < wanted * 4 && static_cast<int64_t>(rushes.size()) < wanted; ++i) {
    const int64_t start = world_.start_ms() + rng_.Below(std::max<int64_t>(span, 1));
    if (LocalHour(start) < 10 || LocalHour(start) > 20) continue;
    const int32_t city = world_.users()[world_.PickUser(rng_)].home_city;
    const int32_t m = world_.PickMerchant(city, kRushCategories[rng_.Below(5)], false, rng_);
    if (world_.merchants()[m].channel != Channel::kPos) continue;
    const int64_t length = rng_.Between(20, 90) * kMinuteMs;
    rushes.push_back(Rush{start, start + length, city, m, rng_.Uniform(0.03, 0.2)});
  }
  std::sort(rushes.begin(), rushes.end(),
            [](const Rush& a, const Rush& b) { return a.start_ms < b.start_ms; });
  int64_t free_from = 0;
  for (const Rush& r : rushes) {
    if (r.start_ms < free_from) continue;
    rushes_.push_back(r);
    free_from = r.end_ms;
  }
}

void LegitStream::Generate(const std::vector<int64_t>& times, std::vector<Txn>* out,
                           const std::function<void(double)>& progress) {
  const size_t step = std::max<size_t>(1, times.size() / 50);
  for (size_t i = 0; i < times.size(); ++i) {
    // Follow-ups take the next free slot of the rhythm, which keeps the total count exact.
    const int64_t ts = times[i];
    int32_t user = -1, merchant = -1;
    if (!follow_ups_.empty() && follow_ups_.top().due_ms <= ts) {
      user = follow_ups_.top().user;
      merchant = follow_ups_.top().merchant;
      follow_ups_.pop();
    } else if (!TryRush(ts, &user, &merchant)) {
      user = world_.PickUser(rng_);
    }
    const int32_t city = world_.CityAt(user, ts);
    if (merchant >= 0 && world_.merchants()[merchant].city >= 0 &&
        world_.merchants()[merchant].city != city) {
      merchant = -1;  // the shop is not where the card holder now is
    }
    const bool drifted = ts >= drift_ms_;
    if (merchant < 0) merchant = ChooseMerchant(user, city, drifted);
    out->push_back(Make(ts, user, merchant, city, drifted));
    MaybeFollowUp(out->back());
    if (progress && i % step == 0) progress(static_cast<double>(i) / times.size());
  }
}

bool LegitStream::TryRush(int64_t ts, int32_t* user, int32_t* merchant) {
  while (next_rush_ < rushes_.size() && rushes_[next_rush_].end_ms <= ts) ++next_rush_;
  if (next_rush_ == rushes_.size()) return false;
  const Rush& r = rushes_[next_rush_];
  if (ts < r.start_ms || !rng_.Chance(r.share)) return false;
  const int32_t u = world_.PickUserIn(r.city, rng_);
  if (u < 0 || world_.CityAt(u, ts) != r.city) return false;  // away on a trip
  *user = u;
  *merchant = r.merchant;
  return true;
}

void LegitStream::MaybeFollowUp(const Txn& t) {
  // In-game purchases come in runs at one shop, which from a distance looks like card testing.
  const Merchant& m = world_.merchants()[t.merchant];
  const bool gaming = m.category == kGaming;
  if (!rng_.Chance(gaming ? kGamingFollowUpChance : kFollowUpChance)) return;
  const double mean_gap_minutes = m.channel == Channel::kOnline ? 6 : 20;
  const int64_t gap = static_cast<int64_t>((1 + rng_.Exponential(mean_gap_minutes)) * kMinuteMs);
  const int32_t next = gaming && rng_.Chance(0.7) ? t.merchant : -1;
  follow_ups_.push(FollowUp{t.ts + gap, follow_up_seq_++, t.user, next});
}

int32_t LegitStream::ChooseMerchant(int32_t user, int32_t city, bool drifted) {
  const double r = rng_.Uniform();
  if (city != world_.users()[user].home_city) {
    // Travelling: hotels and local shops, plus the online favourites that follow you anywhere.
    if (r < 0.15) return world_.PickMerchant(city, kTravel, drifted, rng_);
    if (r < 0.35) {
      const int32_t m = world_.PickFavourite(user, false, rng_);
      if (world_.merchants()[m].city < 0) return m;
    }
    return world_.PickMerchant(city, world_.PickCategory(drifted, rng_), drifted, rng_);
  }
  if (drifted && r < 0.25) return world_.PickFavourite(user, true, rng_);
  if (r < (drifted ? 0.75 : 0.72)) return world_.PickFavourite(user, false, rng_);
  return world_.PickMerchant(city, world_.PickCategory(drifted, rng_), drifted, rng_);
}

Txn LegitStream::Make(int64_t ts, int32_t user, int32_t merchant, int32_t city, bool drifted) {
  const Merchant& m = world_.merchants()[merchant];
  const User& u = world_.users()[user];
  Txn t;
  t.ts = ts;
  t.user = user;
  t.merchant = merchant;
  if (m.price_cents > 0) {
    const double inflation = drifted ? world_.DriftInflation(m.category) : 1.0;
    t.amount_cents =
        static_cast<int32_t>(std::lround((m.price_cents + 1) * inflation / 100) * 100 - 1);
  } else if (m.category == kGaming && rng_.Chance(0.45)) {
    t.amount_cents = kMicroPrices[rng_.Below(5)];
  } else {
    t.amount_cents = world_.Amount(m.category, u.level, drifted, rng_);
  }
  // Online payments are placed where the card holder is (IP geolocation); the rest at the shop.
  GeoE4 geo = m.geo;
  if (m.channel == Channel::kOnline) {
    geo = city == u.home_city ? world_.Jitter(u.home, 0.02, rng_)
                              : world_.Jitter(world_.CityCenter(city), 0.05, rng_);
  }
  t.lat_e4 = geo.lat;
  t.lon_e4 = geo.lon;
  return t;
}

}  // namespace sluice::gen
