#include "sluice/gen/world.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace sluice::gen {
namespace {

// Amounts are dollars for a median spender; weights are relative shares of transactions.
constexpr CategoryInfo kCategories[kNumCategories] = {
    {"grocery", 22, 19, 42, 0.65, 0.05},   {"restaurant", 18, 15, 30, 0.6, 0},
    {"fuel", 10, 8, 45, 0.35, 0},          {"cafe", 10, 9, 6.5, 0.45, 0},
    {"pharmacy", 5, 4.5, 24, 0.75, 0},     {"apparel", 5, 5, 65, 0.7, 0.35},
    {"online_retail", 12, 13, 38, 0.9, 1}, {"electronics", 2.5, 3.5, 160, 1.0, 0.4},
    {"travel", 1.5, 1.5, 320, 0.8, 0.6},   {"gaming", 3, 3.5, 22, 0.8, 1},
    {"subscription", 3, 3, 13, 0.3, 1},    {"atm", 6, 4, 100, 0.6, 0},
    {"food_delivery", 0, 8, 34, 0.5, 1},   {"ev_charging", 0, 3, 18, 0.4, 0},
    {"crypto", 0, 2.5, 150, 1.1, 1},
};

// name, lat, lon, residents (metro millions), travel weight, fraud weight. Card holders live in US
// metros; trips also reach abroad; some fraud comes from cities where no card holder lives.
constexpr City kCities[] = {
    {"New York", 40.7128, -74.0060, 19.6, 10, 6},
    {"Los Angeles", 34.0522, -118.2437, 13.0, 8, 5},
    {"Chicago", 41.8781, -87.6298, 9.4, 5, 3},
    {"Dallas", 32.7767, -96.7970, 7.6, 3, 2},
    {"Houston", 29.7604, -95.3698, 7.1, 3, 3},
    {"Washington", 38.9072, -77.0369, 6.3, 5, 1},
    {"Philadelphia", 39.9526, -75.1652, 6.2, 2, 1},
    {"Miami", 25.7617, -80.1918, 6.1, 9, 6},
    {"Atlanta", 33.7490, -84.3880, 6.1, 3, 3},
    {"Boston", 42.3601, -71.0589, 4.9, 4, 1},
    {"Phoenix", 33.4484, -112.0740, 4.8, 2, 1},
    {"San Francisco", 37.7749, -122.4194, 4.7, 6, 2},
    {"Seattle", 47.6062, -122.3321, 4.0, 3, 1},
    {"Detroit", 42.3314, -83.0458, 4.3, 1, 2},
    {"Minneapolis", 44.9778, -93.2650, 3.7, 1, 0.5},
    {"San Diego", 32.7157, -117.1611, 3.3, 4, 1},
    {"Tampa", 27.9506, -82.4572, 3.2, 3, 1},
    {"Denver", 39.7392, -104.9903, 2.9, 3, 1},
    {"St. Louis", 38.6270, -90.1994, 2.8, 1, 0.5},
    {"Baltimore", 39.2904, -76.6122, 2.8, 1, 1},
    {"Charlotte", 35.2271, -80.8431, 2.7, 1, 0.5},
    {"Orlando", 28.5383, -81.3792, 2.7, 8, 2},
    {"San Antonio", 29.4241, -98.4936, 2.6, 2, 0.5},
    {"Portland", 45.5152, -122.6784, 2.5, 2, 0.5},
    {"Pittsburgh", 40.4406, -79.9959, 2.4, 1, 0.3},
    {"Austin", 30.2672, -97.7431, 2.4, 3, 0.5},
    {"Las Vegas", 36.1699, -115.1398, 2.3, 9, 3},
    {"Kansas City", 39.0997, -94.5786, 2.2, 1, 0.3},
    {"Columbus", 39.9612, -82.9988, 2.1, 1, 0.3},
    {"Indianapolis", 39.7684, -86.1581, 2.1, 1, 0.3},
    {"Nashville", 36.1627, -86.7816, 2.0, 4, 0.5},
    {"Salt Lake City", 40.7608, -111.8910, 1.3, 2, 0.3},
    {"New Orleans", 29.9511, -90.0715, 1.3, 4, 0.5},
    {"Honolulu", 21.3069, -157.8583, 1.0, 4, 0.3},
    {"London", 51.5074, -0.1278, 0, 4, 3},
    {"Paris", 48.8566, 2.3522, 0, 3, 1},
    {"Cancun", 21.1619, -86.8515, 0, 5, 1},
    {"Toronto", 43.6532, -79.3832, 0, 3, 1},
    {"Mexico City", 19.4326, -99.1332, 0, 2, 2},
    {"Tokyo", 35.6762, 139.6503, 0, 1, 0.5},
    {"Lagos", 6.5244, 3.3792, 0, 0, 5},
    {"Bucharest", 44.4268, 26.1025, 0, 0, 4},
    {"Manila", 14.5995, 120.9842, 0, 0, 3},
    {"Sao Paulo", -23.5505, -46.6333, 0, 0, 3},
    {"Jakarta", -6.2088, 106.8456, 0, 0, 2},
};

constexpr int32_t kSubscriptionPrices[] = {499, 799, 999, 1299, 1499, 1799};
constexpr double kFreshShareAfterDrift = 0.35;  // chance a drifted pick goes to a fresh merchant

int32_t ToE4(double degrees) { return static_cast<int32_t>(std::lround(degrees * 1e4)); }

}  // namespace

const char* ChannelName(Channel c) {
  switch (c) {
    case Channel::kPos:
      return "pos";
    case Channel::kOnline:
      return "online";
    case Channel::kAtm:
      return "atm";
  }
  return "pos";
}

const CategoryInfo& CategoryOf(int category) { return kCategories[category]; }

double DistanceKm(GeoE4 a, GeoE4 b) {
  constexpr double kRad = 3.14159265358979323846 / 180.0 / 1e4;
  const double lat1 = a.lat * kRad, lat2 = b.lat * kRad;
  const double dlat = lat2 - lat1, dlon = (b.lon - a.lon) * kRad;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1) * std::cos(lat2) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * 6371.0088 * std::asin(std::min(1.0, std::sqrt(h)));
}

World World::Build(const WorldParams& params) {
  World w;
  w.start_ms_ = params.start_ms;
  w.end_ms_ = params.end_ms;
  Rng rng = Rng::Stream(params.seed, 1);
  w.AddCities();
  for (double& f : w.drift_inflation_) f = rng.Uniform(1.3, 1.6);
  const int64_t merchant_count = std::max<int64_t>(600, params.users / 6);
  w.AddMerchants(merchant_count, rng);
  w.BuildMerchantPickers();
  w.AddUsers(params.users, rng);
  return w;
}

void World::AddCities() {
  std::vector<double> home, travel, fraud, cashout, cat, drift_cat;
  city_has_merchants_.assign(std::size(kCities), 0);
  for (size_t c = 0; c < std::size(kCities); ++c) {
    const City& city = kCities[c];
    city_has_merchants_[c] = city.home_weight > 0 || city.travel_weight > 0;
    home.push_back(city.home_weight);
    travel.push_back(city.travel_weight);
    fraud.push_back(city.fraud_weight);
    cashout.push_back(city.home_weight > 0 ? city.fraud_weight : 0);
  }
  for (const CategoryInfo& info : kCategories) {
    cat.push_back(info.weight);
    drift_cat.push_back(info.drift_weight);
  }
  home_city_picker_ = AliasTable(home);
  travel_city_picker_ = AliasTable(travel);
  fraud_city_picker_ = AliasTable(fraud);
  cashout_city_picker_ = AliasTable(cashout);
  category_picker_ = AliasTable(cat);
  drift_category_picker_ = AliasTable(drift_cat);
}

void World::AddMerchants(int64_t count, Rng& rng) {
  // Every city gets one shop of each in-person category, so a pick there never comes up empty.
  for (size_t c = 0; c < std::size(kCities); ++c) {
    if (!city_has_merchants_[c]) continue;
    for (int cat = 0; cat < kNumCategories; ++cat) {
      if (kCategories[cat].online_share < 1) AddMerchant(static_cast<int32_t>(c), cat, false, rng);
    }
  }
  for (int cat = 0; cat < kNumCategories; ++cat) {
    if (kCategories[cat].online_share > 0) {
      AddMerchant(-1, cat, false, rng);
      AddMerchant(-1, cat, false, rng);
    }
  }
  std::vector<double> shop_weight;
  for (const City& city : kCities)
    shop_weight.push_back(city.home_weight + 0.3 * city.travel_weight);
  const AliasTable shop_city(shop_weight);
  while (static_cast<int64_t>(merchants_.size()) < count) {
    const bool fresh = rng.Chance(0.12);
    const int cat = (fresh ? drift_category_picker_ : category_picker_).Sample(rng);
    const bool online = rng.Chance(kCategories[cat].online_share);
    AddMerchant(online ? -1 : shop_city.Sample(rng), cat, fresh, rng);
  }
  std::vector<int32_t> candidates;
  for (size_t m = 0; m < merchants_.size(); ++m) {
    const Merchant& x = merchants_[m];
    if (x.city < 0 && !x.fresh &&
        (x.category == kGaming || x.category == kSubscription || x.category == kOnlineRetail)) {
      candidates.push_back(static_cast<int32_t>(m));
    }
  }
  // Card testers favour a few weakly protected shops; which ones depends on the seed.
  const int64_t testers = std::min<int64_t>(candidates.size(), 6 + count / 300);
  for (int64_t i = 0; i < testers; ++i) {
    const int64_t j = i + rng.Below(static_cast<int64_t>(candidates.size()) - i);
    std::swap(candidates[i], candidates[j]);
    tester_merchants_.push_back(candidates[i]);
  }
}

void World::AddMerchant(int32_t city, int category, bool fresh, Rng& rng) {
  Merchant m;
  m.city = city;
  m.category = static_cast<uint8_t>(category);
  m.channel = category == kAtm ? Channel::kAtm : city < 0 ? Channel::kOnline : Channel::kPos;
  m.fresh = fresh || category >= kFoodDelivery;
  m.geo = city < 0 ? GeoE4{} : Jitter(CityCenter(city), 0.07, rng);
  m.price_cents = category == kSubscription ? kSubscriptionPrices[rng.Below(6)] : 0;
  merchants_.push_back(m);
  merchant_popularity_.push_back(rng.LogNormal(1.0, 1.1));
}

int World::PickerIndex(int32_t city, int category) const {
  const int32_t slot = city < 0 ? static_cast<int32_t>(std::size(kCities)) : city;
  return slot * kNumCategories + category;
}

void World::BuildMerchantPickers() {
  established_.assign((std::size(kCities) + 1) * kNumCategories, WeightedIds());
  fresh_.assign(established_.size(), WeightedIds());
  for (size_t m = 0; m < merchants_.size(); ++m) {
    const Merchant& x = merchants_[m];
    auto& lists = x.fresh ? fresh_ : established_;
    lists[PickerIndex(x.city, x.category)].Add(static_cast<int32_t>(m), merchant_popularity_[m]);
  }
}

int32_t World::PickMerchant(int32_t city, int category, bool drifted, Rng& rng) const {
  const CategoryInfo& info = kCategories[category];
  const bool online = city < 0 || info.online_share >= 1 || rng.Chance(info.online_share);
  auto pick = [&](int32_t where) -> int32_t {
    const int i = PickerIndex(where, category);
    const bool use_fresh = drifted && !fresh_[i].empty() &&
                           (established_[i].empty() || rng.Chance(kFreshShareAfterDrift));
    const WeightedIds& ids = use_fresh ? fresh_[i] : established_[i];
    return ids.empty() ? -1 : ids.Sample(rng);
  };
  int32_t m = pick(online ? -1 : city);
  if (m < 0 && city >= 0) m = pick(online ? city : -1);
  if (m >= 0) return m;
  // The category is not sold here (or not yet): spend on a staple instead.
  return PickMerchant(HasMerchants(city) ? city : -1, HasMerchants(city) ? kGrocery : kOnlineRetail,
                      drifted, rng);
}

void World::AddUsers(int64_t count, Rng& rng) {
  std::vector<double> activity;
  activity.reserve(count);
  city_users_.assign(std::size(kCities), WeightedIds());
  users_.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    User u{};
    u.home_city = home_city_picker_.Sample(rng);
    u.home = Jitter(CityCenter(u.home_city), 0.12, rng);
    u.level = rng.LogNormal(1.0, 0.55);
    activity.push_back(rng.LogNormal(1.0, 0.8));
    AddFavourites(&u, rng);
    AddTrips(&u, rng);
    city_users_[u.home_city].Add(static_cast<int32_t>(i), activity.back());
    users_.push_back(u);
  }
  user_picker_ = AliasTable(activity);
}

void World::AddFavourites(User* user, Rng& rng) {
  user->pref_begin = static_cast<uint32_t>(pref_ids_.size());
  user->pref_count = static_cast<uint16_t>(rng.Between(5, 16));
  double cumulative = 0;
  for (int j = 0; j < user->pref_count; ++j) {
    const int cat = category_picker_.Sample(rng);
    pref_ids_.push_back(PickMerchant(user->home_city, cat, false, rng));
    cumulative += std::pow(j + 1.0, -0.9) * rng.Uniform(0.5, 1.5);
    pref_cumulative_.push_back(cumulative);
  }
  // Favourites among the merchants that open at the drift point (used only after it).
  user->fresh_pref_count = static_cast<uint16_t>(rng.Between(2, 5));
  cumulative = 0;
  for (int j = 0; j < user->fresh_pref_count; ++j) {
    const int cat = drift_category_picker_.Sample(rng);
    const bool online = rng.Chance(kCategories[cat].online_share);
    const WeightedIds& local = fresh_[PickerIndex(online ? -1 : user->home_city, cat)];
    pref_ids_.push_back(local.empty() ? PickMerchant(user->home_city, cat, true, rng)
                                      : local.Sample(rng));
    cumulative += std::pow(j + 1.0, -0.9) * rng.Uniform(0.5, 1.5);
    pref_cumulative_.push_back(cumulative);
  }
}

void World::AddTrips(User* user, Rng& rng) {
  user->trip_begin = static_cast<uint32_t>(trips_.size());
  const int64_t span = end_ms_ - start_ms_;
  const double span_days = static_cast<double>(span) / kDayMs;
  const int n = std::min(8, rng.Poisson(span_days / 100.0 * rng.LogNormal(1.0, 0.9)));
  std::vector<Trip> trips;
  for (int i = 0; i < n; ++i) {
    Trip t;
    t.start_ms = start_ms_ + rng.Below(std::max<int64_t>(span, 1));
    t.end_ms = t.start_ms + rng.Between(18 * 60, 9 * 24 * 60) * kMinuteMs;
    t.city = PickTravelCity(user->home_city, rng);
    trips.push_back(t);
  }
  std::sort(trips.begin(), trips.end(),
            [](const Trip& a, const Trip& b) { return a.start_ms < b.start_ms; });
  int64_t free_from = 0;
  for (const Trip& t : trips) {
    if (t.start_ms < free_from || t.city == user->home_city) continue;  // overlapping: drop
    trips_.push_back(t);
    free_from = t.end_ms + kDayMs;
  }
  user->trip_count = static_cast<uint16_t>(trips_.size() - user->trip_begin);
}

int32_t World::PickUserIn(int32_t city, Rng& rng) const {
  if (city < 0 || city_users_[city].empty()) return -1;
  return city_users_[city].Sample(rng);
}

int32_t World::PickFavourite(int32_t user, bool fresh, Rng& rng) const {
  const User& u = users_[user];
  const size_t begin = u.pref_begin + (fresh ? u.pref_count : 0);
  const size_t count = fresh ? u.fresh_pref_count : u.pref_count;
  const double x = rng.Uniform() * pref_cumulative_[begin + count - 1];
  for (size_t i = begin; i + 1 < begin + count; ++i) {
    if (x < pref_cumulative_[i]) return pref_ids_[i];
  }
  return pref_ids_[begin + count - 1];
}

int32_t World::PickCategory(bool drifted, Rng& rng) const {
  return (drifted ? drift_category_picker_ : category_picker_).Sample(rng);
}

int32_t World::PickTravelCity(int32_t except, Rng& rng) const {
  int32_t city = travel_city_picker_.Sample(rng);
  for (int i = 0; i < 10 && city == except; ++i) city = travel_city_picker_.Sample(rng);
  return city;
}

int32_t World::PickTesterMerchant(Rng& rng) const {
  if (tester_merchants_.empty()) return PickMerchant(-1, kGaming, false, rng);
  return tester_merchants_[rng.Below(static_cast<int64_t>(tester_merchants_.size()))];
}

int32_t World::CityAt(int32_t user, int64_t ts) const {
  const User& u = users_[user];
  for (uint32_t i = u.trip_begin; i < u.trip_begin + u.trip_count; ++i) {
    if (ts >= trips_[i].start_ms && ts < trips_[i].end_ms) return trips_[i].city;
  }
  return u.home_city;
}

GeoE4 World::CityCenter(int32_t city) const {
  return GeoE4{ToE4(kCities[city].lat), ToE4(kCities[city].lon)};
}

GeoE4 World::Jitter(GeoE4 center, double sigma_deg, Rng& rng) const {
  const double lat = std::clamp(center.lat * 1e-4 + sigma_deg * rng.Normal(), -89.9, 89.9);
  double lon = center.lon * 1e-4 + sigma_deg * rng.Normal() / std::cos(lat * 3.14159265 / 180);
  if (lon > 180) lon -= 360;
  if (lon < -180) lon += 360;
  return GeoE4{ToE4(lat), ToE4(lon)};
}

int32_t World::Amount(int category, double level, bool drifted, Rng& rng) const {
  const CategoryInfo& info = kCategories[category];
  double dollars = info.median * std::pow(level, 0.8) * std::exp(info.sigma * rng.Normal());
  if (rng.Chance(0.004)) dollars *= rng.Uniform(4, 15);  // the occasional big-ticket purchase
  if (drifted) dollars *= drift_inflation_[category];
  if (category == kAtm) dollars = 20.0 * std::max(1.0, std::round(dollars / 20.0));
  return static_cast<int32_t>(std::clamp<double>(std::llround(dollars * 100), 50, 5000000));
}

}  // namespace sluice::gen
