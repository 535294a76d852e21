#pragma once
// `sluice gen fraud`: a realistic, deterministic card-transaction stream with injected fraud and
// delayed chargeback labels, for demos, tests and benchmarks of the whole pipeline.
//
// The same options give the same bytes on every run and machine (own PRNG, integer formatting).
// GenerateFraud is a pure function of its options apart from the two files it writes; calls on
// different files may run concurrently.
#include <cstdint>
#include <functional>
#include <string>

#include "sluice/core/status.h"

namespace sluice::gen {

struct FraudOptions {
  int64_t events = 100000;  // number of transaction records written
  uint64_t seed = 1;
  int64_t users = 0;     // 0 means events / 40 (at least 50)
  double drift_at = -1;  // in (0,1): from this fraction of the stream on, the distribution shifts;
                         // negative: no drift
  int64_t start_ms = 1700000000000;  // event time of the first transaction, epoch ms
  std::string out_path;              // events JSONL
  std::string labels_path;           // labels JSONL (may be empty: no labels written)
  double fraud_rate = 0.01;          // share of fraudulent transactions, in [0, 0.5]
};

struct FraudStats {
  int64_t events = 0;        // records written to out_path
  int64_t fraud = 0;         // of which fraudulent
  int64_t labels = 0;        // records written to labels_path
  int64_t out_of_order = 0;  // arrived after a newer event, within 5m lateness (not dropped)
  int64_t late = 0;  // late by more than 5m for their user_id or merchant_id: an engine with
                     // allowed_lateness 5m dead-letters them
  int64_t users = 0, merchants = 0;
  int64_t fraud_card_testing = 0, fraud_takeover = 0, fraud_compromised_merchant = 0;
  int64_t unreported_fraud = 0;       // fraud that never gets a label
  int64_t false_chargebacks = 0;      // labels on legitimate transactions
  int64_t first_ts = 0, last_ts = 0;  // event-time range, epoch ms
  int64_t drift_ts = -1;              // event time the drift starts, or -1
};

// Writes opts.events transactions to opts.out_path (in arrival order, JSONL) and, when
// opts.labels_path is set, their chargebacks sorted by time. `progress(fraction_done)` may be
// null; it is called at most about 100 times. `stats` may be null; it is filled only on
// success. Fails with InvalidArgument for bad options and IoError when a file cannot be written.
core::Status GenerateFraud(const FraudOptions& opts, FraudStats* stats,
                           const std::function<void(double)>& progress);

}  // namespace sluice::gen
