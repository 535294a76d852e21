#pragma once
// The simulated world behind `sluice gen fraud`: cities, merchant categories, merchants and card
// holders (home, spending level, favourite merchants, trips), built once from the seed.
// Internal to the gen module. Immutable after Build; its const methods take the caller's Rng.
#include <cstdint>
#include <limits>
#include <vector>

#include "sluice/gen/random.h"

namespace sluice::gen {

inline constexpr int64_t kMinuteMs = 60 * 1000;
inline constexpr int64_t kHourMs = 60 * kMinuteMs;
inline constexpr int64_t kDayMs = 24 * kHourMs;
inline constexpr int64_t kNoDrift = std::numeric_limits<int64_t>::max();

enum class Channel : uint8_t { kPos, kOnline, kAtm };
const char* ChannelName(Channel c);

enum Category : uint8_t {
  kGrocery,
  kRestaurant,
  kFuel,
  kCafe,
  kPharmacy,
  kApparel,
  kOnlineRetail,
  kElectronics,
  kTravel,
  kGaming,
  kSubscription,
  kAtm,
  kFoodDelivery,  // the last three only exist after the drift point
  kEvCharging,
  kCrypto,
  kNumCategories
};

struct CategoryInfo {
  const char* name;
  double weight;        // share of everyday spending before the drift
  double drift_weight;  // share after the drift
  double median;        // typical amount in dollars for a median spender
  double sigma;         // log-space spread of amounts
  double online_share;  // fraction of this category's merchants that sell online
};
const CategoryInfo& CategoryOf(int category);

struct City {
  const char* name;
  double lat, lon;
  double home_weight;    // card holders living here (0: nobody does)
  double travel_weight;  // how often trips go here
  double fraud_weight;   // how often fraudsters operate from here
};

// Locations are kept in 1e-4 degrees (about 11 m), which is also how they are printed.
struct GeoE4 {
  int32_t lat = 0, lon = 0;
};
double DistanceKm(GeoE4 a, GeoE4 b);

struct Merchant {
  int32_t city;  // -1: online only
  uint8_t category;
  Channel channel;
  bool fresh;  // opens at the drift point
  GeoE4 geo;
  int32_t price_cents;  // fixed price of a subscription merchant, else 0
};

struct Trip {
  int64_t start_ms, end_ms;
  int32_t city;
};

struct User {
  int32_t home_city;
  GeoE4 home;
  double level;  // spending multiplier, log-normal around 1
  uint32_t pref_begin;
  uint16_t pref_count, fresh_pref_count;  // favourites; then favourites among fresh merchants
  uint32_t trip_begin;
  uint16_t trip_count;
};

struct WorldParams {
  uint64_t seed = 1;
  int64_t users = 50;
  int64_t start_ms = 0, end_ms = 0;
};

class World {
 public:
  static World Build(const WorldParams& params);

  const std::vector<Merchant>& merchants() const { return merchants_; }
  const std::vector<User>& users() const { return users_; }
  int64_t start_ms() const { return start_ms_; }
  int64_t end_ms() const { return end_ms_; }

  int32_t PickUser(Rng& rng) const { return user_picker_.Sample(rng); }
  int32_t PickUserIn(int32_t city, Rng& rng) const;  // -1 when nobody lives there
  int32_t PickFavourite(int32_t user, bool fresh, Rng& rng) const;
  int32_t PickCategory(bool drifted, Rng& rng) const;
  // A merchant of `category` near `city` (-1: online), falling back to online sellers and then to
  // any category when the city has none. `drifted` lets fresh merchants be chosen.
  int32_t PickMerchant(int32_t city, int category, bool drifted, Rng& rng) const;
  int32_t PickTravelCity(int32_t except, Rng& rng) const;
  int32_t PickFraudCity(Rng& rng) const { return fraud_city_picker_.Sample(rng); }
  int32_t PickCashoutCity(Rng& rng) const { return cashout_city_picker_.Sample(rng); }
  int32_t PickTesterMerchant(Rng& rng) const;
  bool HasMerchants(int32_t city) const { return city >= 0 && city_has_merchants_[city]; }
  // Where the user is at `ts`: the home city or the city of a trip in progress.
  int32_t CityAt(int32_t user, int64_t ts) const;
  GeoE4 CityCenter(int32_t city) const;
  GeoE4 Jitter(GeoE4 center, double sigma_deg, Rng& rng) const;
  // An everyday amount in cents for this category and spender, inflated after the drift.
  int32_t Amount(int category, double level, bool drifted, Rng& rng) const;
  double DriftInflation(int category) const { return drift_inflation_[category]; }

 private:
  void AddCities();
  void AddMerchants(int64_t count, Rng& rng);
  void AddMerchant(int32_t city, int category, bool fresh, Rng& rng);
  void BuildMerchantPickers();
  void AddUsers(int64_t count, Rng& rng);
  void AddFavourites(User* user, Rng& rng);
  void AddTrips(User* user, Rng& rng);
  int PickerIndex(int32_t city, int category) const;

  std::vector<Merchant> merchants_;
  std::vector<double> merchant_popularity_;
  std::vector<User> users_;
  std::vector<int32_t> pref_ids_;
  std::vector<double> pref_cumulative_;
  std::vector<Trip> trips_;
  std::vector<char> city_has_merchants_;
  // Per (city or online, category): established merchants, and fresh ones (open after the drift).
  std::vector<WeightedIds> established_, fresh_;
  std::vector<WeightedIds> city_users_;
  std::vector<int32_t> tester_merchants_;
  AliasTable user_picker_, home_city_picker_, travel_city_picker_, fraud_city_picker_,
      cashout_city_picker_, category_picker_, drift_category_picker_;
  double drift_inflation_[kNumCategories] = {};
  int64_t start_ms_ = 0, end_ms_ = 0;
};

}  // namespace sluice::gen
