#pragma once
// One simulated card transaction as the generator keeps it before printing: 48 bytes, so a
// million of them sort and shuffle in cache-friendly arrays. Internal to the gen module.
#include <cstdint>

namespace sluice::gen {

enum class FraudKind : uint8_t { kNone, kCardTesting, kTakeover, kCompromisedMerchant };

struct Txn {
  int64_t ts = 0;       // event time, epoch ms
  int64_t arrival = 0;  // when it reaches the log, epoch ms; the file is sorted by it
  int32_t user = 0;
  int32_t merchant = 0;
  int32_t amount_cents = 0;
  int32_t lat_e4 = 0, lon_e4 = 0;  // where the card was used, 1e-4 degrees
  int32_t episode = -1;            // fraud episode (card, pattern, time) or -1 when legit
  FraudKind kind = FraudKind::kNone;
};

}  // namespace sluice::gen
