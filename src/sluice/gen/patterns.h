#pragma once
// Fraud patterns injected into the legitimate stream:
//  - card testing: a stolen card number tried with many small online payments within minutes,
//    often at a few weakly protected shops, sometimes followed by one large purchase;
//  - account takeover: the card suddenly used far from home for a few large purchases
//    (electronics, travel, gaming, cash) within an hour or two;
//  - compromised merchant: a skimmed shop; cards that paid there are cloned and used days later.
// Some of each are made to look ordinary (slow tests, local proxies, modest amounts), so a model
// learns them well but not perfectly. Internal to the gen module; not thread-safe.
#include <cstdint>
#include <vector>

#include "sluice/gen/random.h"
#include "sluice/gen/txn.h"
#include "sluice/gen/world.h"

namespace sluice::gen {

class FraudInjector {
 public:
  // `legit` is sorted by event time and must outlive the injector (compromised merchants look
  // up who shopped where). From `drift_ms` on, the fraud mix uses the drifted world.
  FraudInjector(const World& world, const std::vector<Txn>& legit, uint64_t seed, int64_t drift_ms);

  // Appends exactly `budget` fraudulent transactions of `kind`, in episodes that start within
  // [from_ms, to_ms) and end before the world's end; the last episode is cut short to fit.
  void Inject(FraudKind kind, int64_t budget, int64_t from_ms, int64_t to_ms,
              std::vector<Txn>* out);

  // Episodes (one card under one attack) numbered so far; Txn::episode is below this.
  int32_t episodes() const { return next_episode_; }

 private:
  void CardTesting(int64_t t, bool drifted);
  void Takeover(int64_t t, bool drifted);
  void CompromisedMerchant(int64_t t, bool drifted);
  void CloneCard(int32_t user, int64_t t, int32_t card, int32_t cashout_city, bool clone,
                 bool drifted);
  int32_t FarCity(int32_t user);
  int32_t DollarsToCents(double dollars) const;
  // Adds to the episode being built; `card` numbers the cards hit within one episode.
  void Add(int64_t ts, int32_t user, int32_t merchant, int32_t cents, GeoE4 geo, int32_t card = 0);

  const World& world_;
  const std::vector<Txn>& legit_;
  Rng rng_;
  int64_t drift_ms_;
  FraudKind kind_ = FraudKind::kNone;
  std::vector<Txn> episode_;
  int32_t next_episode_ = 0;
};

}  // namespace sluice::gen
