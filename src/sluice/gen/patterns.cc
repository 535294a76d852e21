#include "sluice/gen/patterns.h"

#include <algorithm>
#include <cmath>

namespace sluice::gen {
namespace {

struct Weighted {
  int category;
  double weight;
};

// What a takeover buys: resellable goods and cash; after the drift, crypto takes a large share.
constexpr Weighted kTakeoverBuys[] = {
    {kElectronics, 0.35}, {kTravel, 0.2}, {kGaming, 0.15}, {kOnlineRetail, 0.15}, {kAtm, 0.15}};
constexpr Weighted kDriftedTakeoverBuys[] = {{kElectronics, 0.25}, {kTravel, 0.15}, {kGaming, 0.1},
                                             {kOnlineRetail, 0.1}, {kAtm, 0.1},     {kCrypto, 0.3}};
// How a cloned card is cashed out in person.
constexpr Weighted kCloneBuys[] = {
    {kAtm, 0.35}, {kElectronics, 0.25}, {kApparel, 0.15}, {kGrocery, 0.15}, {kFuel, 0.1}};

template <size_t N>
int PickWeighted(const Weighted (&table)[N], Rng& rng) {
  double x = rng.Uniform();
  for (const Weighted& w : table) {
    if ((x -= w.weight) < 0) return w.category;
  }
  return table[N - 1].category;
}

// Shops where skimmers get installed: card present, many customers.
bool Skimmable(const Merchant& m) {
  return m.channel == Channel::kPos &&
         (m.category == kFuel || m.category == kRestaurant || m.category == kGrocery ||
          m.category == kCafe || m.category == kApparel || m.category == kPharmacy);
}

int64_t Minutes(double m) { return static_cast<int64_t>(m * kMinuteMs); }

}  // namespace

FraudInjector::FraudInjector(const World& world, const std::vector<Txn>& legit, uint64_t seed,
                             int64_t drift_ms)
    : world_(world), legit_(legit), rng_(Rng::Stream(seed, 3)), drift_ms_(drift_ms) {}

void FraudInjector::Inject(FraudKind kind, int64_t budget, int64_t from_ms, int64_t to_ms,
                           std::vector<Txn>* out) {
  // Skimmed cards are used about two weeks after the skimming: start that much earlier so the
  // fraud itself lands in [from_ms, to_ms). Leave room for an episode before the stream ends.
  const int64_t lead = kind == FraudKind::kCompromisedMerchant ? 14 * kDayMs : 0;
  const int64_t first_start = std::max(world_.start_ms(), from_ms - lead);
  const int64_t last_start =
      std::max(first_start + 1, std::min(to_ms - lead, world_.end_ms() - 6 * kHourMs));
  int failures = 0;
  while (budget > 0) {
    episode_.clear();
    const int64_t t0 = first_start + rng_.Below(last_start - first_start);
    const bool drifted = t0 >= drift_ms_;
    // Card testing always fits; fall back to it if another pattern keeps finding nothing to do.
    kind_ = failures > 100 ? FraudKind::kCardTesting : kind;
    switch (kind_) {
      case FraudKind::kCardTesting:
        CardTesting(t0, drifted);
        break;
      case FraudKind::kTakeover:
        Takeover(t0, drifted);
        break;
      case FraudKind::kCompromisedMerchant:
        CompromisedMerchant(t0, drifted);
        break;
      case FraudKind::kNone:
        return;
    }
    const int64_t end = world_.end_ms();
    std::erase_if(episode_, [end](const Txn& t) { return t.ts >= end; });
    if (episode_.empty()) {
      ++failures;
      continue;
    }
    std::stable_sort(episode_.begin(), episode_.end(),
                     [](const Txn& a, const Txn& b) { return a.ts < b.ts; });
    const size_t take = std::min<size_t>(budget, episode_.size());
    int32_t cards = 0;
    for (size_t i = 0; i < take; ++i) {
      Txn t = episode_[i];
      cards = std::max(cards, t.episode + 1);
      t.episode += next_episode_;
      out->push_back(t);
    }
    next_episode_ += cards;
    budget -= static_cast<int64_t>(take);
  }
}

void FraudInjector::Add(int64_t ts, int32_t user, int32_t merchant, int32_t cents, GeoE4 geo,
                        int32_t card) {
  Txn t;
  t.ts = ts;
  t.user = user;
  t.merchant = merchant;
  t.amount_cents = cents;
  t.lat_e4 = geo.lat;
  t.lon_e4 = geo.lon;
  t.episode = card;
  t.kind = kind_;
  episode_.push_back(t);
}

int32_t FraudInjector::DollarsToCents(double dollars) const {
  return static_cast<int32_t>(std::clamp<double>(std::llround(dollars * 100), 50, 5000000));
}

void FraudInjector::CardTesting(int64_t t, bool drifted) {
  const int32_t user = static_cast<int32_t>(rng_.Below(world_.users().size()));
  const User& u = world_.users()[user];
  // Most testers sit far away; some hide behind a residential proxy near the card holder.
  const GeoE4 geo = rng_.Chance(0.3)
                        ? world_.Jitter(u.home, 0.03, rng_)
                        : world_.Jitter(world_.CityCenter(world_.PickFraudCity(rng_)), 0.05, rng_);
  const bool slow = rng_.Chance(0.25);  // a few tries spread over hours look like ordinary use
  const int n = slow ? rng_.Between(1, 3) : rng_.Between(3, drifted ? 20 : 14);
  const bool one_shop = rng_.Chance(0.6);
  const int32_t shop = world_.PickTesterMerchant(rng_);
  for (int i = 0; i < n; ++i) {
    int32_t m = shop;
    if (!one_shop) {
      m = rng_.Chance(0.7)
              ? world_.PickTesterMerchant(rng_)
              : world_.PickMerchant(-1, rng_.Chance(0.5) ? kGaming : kOnlineRetail, drifted, rng_);
    }
    const int32_t cents = rng_.Chance(0.25) ? 100 * static_cast<int32_t>(rng_.Between(1, 5))
                                            : static_cast<int32_t>(rng_.Between(50, 500));
    Add(t, user, m, cents, geo);
    t += slow ? Minutes(10 + rng_.Exponential(120)) : 3000 + Minutes(rng_.Exponential(0.6));
  }
  if (rng_.Chance(0.45)) {  // the card works: cash in
    t += Minutes(2 + rng_.Exponential(20));
    const int32_t m =
        world_.PickMerchant(-1, rng_.Chance(0.5) ? kElectronics : kOnlineRetail, drifted, rng_);
    Add(t, user, m, DollarsToCents(rng_.LogNormal(450, 0.6) * (drifted ? 1.4 : 1.0)), geo);
  }
}

int32_t FraudInjector::FarCity(int32_t user) {
  const GeoE4 home = world_.users()[user].home;
  int32_t city = world_.PickFraudCity(rng_);
  for (int i = 0; i < 20 && DistanceKm(world_.CityCenter(city), home) < 800; ++i) {
    city = world_.PickFraudCity(rng_);
  }
  return city;
}

void FraudInjector::Takeover(int64_t t, bool drifted) {
  const int32_t user = world_.PickUser(rng_);
  const User& u = world_.users()[user];
  // A stolen phone or a phished login used nearby is much harder to tell from the owner.
  const bool local = rng_.Chance(0.25);
  const int32_t city = local ? u.home_city : FarCity(user);
  const GeoE4 center = local ? u.home : world_.CityCenter(city);
  const int n = local ? rng_.Between(1, 3) : rng_.Between(2, 6);
  for (int i = 0; i < n; ++i) {
    const int cat =
        drifted ? PickWeighted(kDriftedTakeoverBuys, rng_) : PickWeighted(kTakeoverBuys, rng_);
    const bool in_person = world_.HasMerchants(city) && rng_.Chance(0.6);
    const int32_t m =
        in_person ? world_.PickMerchant(city, cat, drifted, rng_)
                  : world_.PickMerchant(-1, cat == kAtm ? kElectronics : cat, drifted, rng_);
    const Merchant& shop = world_.merchants()[m];
    int32_t cents;
    if (shop.channel == Channel::kAtm) {
      cents = 2000 * static_cast<int32_t>(rng_.Between(10, 40));
    } else {
      const double typical = std::max(CategoryOf(shop.category).median * 3, 250.0);
      double dollars = rng_.LogNormal(typical, 0.6) * std::pow(u.level, 0.3);
      if (local) dollars *= 0.45;
      if (drifted) dollars *= world_.DriftInflation(shop.category);
      cents = DollarsToCents(dollars);
    }
    const GeoE4 geo =
        shop.channel == Channel::kOnline ? world_.Jitter(center, 0.03, rng_) : shop.geo;
    Add(t, user, m, cents, geo);
    t += Minutes(1 + rng_.Exponential(local ? 90 : 20));
  }
}

void FraudInjector::CompromisedMerchant(int64_t t, bool drifted) {
  // The skimmed shop: the first skimmable shop paid at from a random moment on.
  auto it = std::lower_bound(legit_.begin(), legit_.end(), t,
                             [](const Txn& x, int64_t ts) { return x.ts < ts; });
  int32_t shop = -1;
  for (int i = 0; i < 500 && it != legit_.end() && shop < 0; ++i, ++it) {
    if (Skimmable(world_.merchants()[it->merchant])) shop = it->merchant;
  }
  if (shop < 0) return;
  const int64_t from = t - rng_.Below(2 * kDayMs);
  const int64_t to = from + rng_.Between(3, 10) * kDayMs;
  std::vector<std::pair<int32_t, int64_t>> visits;  // (user, first visit in the window)
  for (auto v = std::lower_bound(legit_.begin(), legit_.end(), from,
                                 [](const Txn&x, int64_t ts) { return x.ts < ts; });
       v != legit_.end() && v->ts < to; ++v) {
    if (v->merchant == shop) visits.emplace_back(v->user, v->ts);
  }
  std::stable_sort(visits.begin(), visits.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  visits.erase(std::unique(visits.begin(), visits.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; }),
               visits.end());
  const int32_t cashout = world_.PickCashoutCity(rng_);
  const bool clone = rng_.Chance(0.6);  // else the numbers are sold for online use
  int32_t cards = 0;
  for (const auto& [user, visit] : visits) {
    if (cards >= 60 || !rng_.Chance(0.5)) continue;
    CloneCard(user, visit + rng_.Between(2 * 24 * 60, 20 * 24 * 60) * kMinuteMs, cards++, cashout,
              clone, drifted);
  }
}

void FraudInjector::CloneCard(int32_t user, int64_t t, int32_t card, int32_t cashout_city,
                              bool clone, bool drifted) {
  const User& u = world_.users()[user];
  const int n = rng_.Between(1, 3);
  for (int i = 0; i < n; ++i) {
    const int32_t m =
        clone ? world_.PickMerchant(cashout_city, PickWeighted(kCloneBuys, rng_), drifted, rng_)
              : world_.PickMerchant(-1, rng_.Chance(0.6) ? kOnlineRetail : kElectronics, drifted,
                                    rng_);
    const Merchant& shop = world_.merchants()[m];
    GeoE4 geo = shop.geo;
    if (shop.channel == Channel::kOnline) {
      geo = rng_.Chance(0.4) ? world_.Jitter(u.home, 0.03, rng_)
                             : world_.Jitter(world_.CityCenter(cashout_city), 0.05, rng_);
    }
    const int32_t cents =
        shop.channel == Channel::kAtm
            ? 2000 * static_cast<int32_t>(rng_.Between(10, 30))
            : DollarsToCents(rng_.LogNormal(180, 0.7) *
                             (drifted ? world_.DriftInflation(shop.category) : 1.0));
    Add(t, user, m, cents, geo, card);
    t += Minutes(5 + rng_.Exponential(120));
  }
}

}  // namespace sluice::gen
