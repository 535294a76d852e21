#include "sluice/gen/fraud.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sluice/core/time.h"
#include "sluice/gen/legit.h"
#include "sluice/gen/output.h"
#include "sluice/gen/patterns.h"
#include "sluice/gen/world.h"

namespace sluice::gen {
namespace {

constexpr double kTxnsPerUserDay = 0.6;  // sets the time span: about 67 days at 40 per user
constexpr int64_t kMaxSpanDays = 730;
constexpr int64_t kMaxEvents = std::numeric_limits<int32_t>::max();

// Calls the user's callback only when the whole percentage moves, so at most 101 times.
class ProgressMeter {
 public:
  explicit ProgressMeter(const std::function<void(double)>& fn) : fn_(fn) {}
  void Report(double fraction) {
    const int pct = std::clamp(static_cast<int>(fraction * 100), 0, 100);
    if (fn_ && pct > last_) {
      last_ = pct;
      fn_(pct / 100.0);
    }
  }
  // A callback for one phase that covers [from, to) of the whole run.
  std::function<void(double)> Phase(double from, double to) {
    return [this, from, to](double f) { Report(from + (to - from) * f); };
  }

 private:
  const std::function<void(double)>& fn_;
  int last_ = -1;
};

core::Status Validate(const FraudOptions& o) {
  using core::Status;
  if (o.events < 0 || o.events > kMaxEvents) {
    return Status::InvalidArgument("events must be between 0 and " + std::to_string(kMaxEvents) +
                                   ", got " + std::to_string(o.events));
  }
  if (o.users < 0 || o.users > kMaxEvents) {
    return Status::InvalidArgument("users must be between 0 (automatic) and " +
                                   std::to_string(kMaxEvents) + ", got " + std::to_string(o.users));
  }
  if (!(o.drift_at < 0) && !(o.drift_at > 0 && o.drift_at < 1)) {
    return Status::InvalidArgument("drift_at must be a fraction strictly between 0 and 1, got " +
                                   std::to_string(o.drift_at));
  }
  if (!(o.fraud_rate >= 0 && o.fraud_rate <= 0.5)) {
    return Status::InvalidArgument("fraud_rate must be between 0 and 0.5, got " +
                                   std::to_string(o.fraud_rate));
  }
  // Room for the longest span plus the latest chargebacks before the end of valid event time.
  const int64_t max_start_ms = core::kMaxEventMicros / 1000 - (kMaxSpanDays + 60) * kDayMs;
  if (o.start_ms < 0 || o.start_ms > max_start_ms) {
    return Status::InvalidArgument("start_ms must be an epoch time in ms between 0 and " +
                                   std::to_string(max_start_ms) + ", got " +
                                   std::to_string(o.start_ms));
  }
  if (o.out_path.empty())
    return Status::InvalidArgument("an output path for the events is required");
  return Status::Ok();
}

int64_t UserCount(const FraudOptions& o) {
  return o.users > 0 ? o.users : std::max<int64_t>(50, o.events / 40);
}

int64_t SpanMs(int64_t events, int64_t users) {
  const double days = static_cast<double>(events) / static_cast<double>(users) / kTxnsPerUserDay;
  return static_cast<int64_t>(std::clamp(days, 3.0, static_cast<double>(kMaxSpanDays)) * kDayMs);
}

struct FraudMix {
  double card_testing, takeover;  // the rest is compromised merchants
};
constexpr FraudMix kMix = {0.35, 0.35};
constexpr FraudMix kDriftedMix = {0.45, 0.40};  // skimming gives way to online attacks

void InjectSegment(FraudInjector* injector, const FraudMix& mix, int64_t budget, int64_t from,
                   int64_t to, std::vector<Txn>* out) {
  const int64_t testing = static_cast<int64_t>(budget * mix.card_testing);
  const int64_t takeover = static_cast<int64_t>(budget * mix.takeover);
  injector->Inject(FraudKind::kCardTesting, testing, from, to, out);
  injector->Inject(FraudKind::kTakeover, takeover, from, to, out);
  injector->Inject(FraudKind::kCompromisedMerchant, budget - testing - takeover, from, to, out);
}

// Appends `budget` fraudulent transactions to `txns` (legit, sorted); returns the episode count.
int32_t InjectFraud(const World& world, const FraudOptions& o, int64_t budget, int64_t drift_ms,
                    std::vector<Txn>* txns) {
  FraudInjector injector(world, *txns, o.seed, drift_ms);
  std::vector<Txn> fraud;
  if (drift_ms == kNoDrift) {
    InjectSegment(&injector, kMix, budget, world.start_ms(), world.end_ms(), &fraud);
  } else {
    const int64_t before = std::llround(budget * o.drift_at);
    InjectSegment(&injector, kMix, before, world.start_ms(), drift_ms, &fraud);
    InjectSegment(&injector, kDriftedMix, budget - before, drift_ms, world.end_ms(), &fraud);
  }
  txns->insert(txns->end(), fraud.begin(), fraud.end());
  return injector.episodes();
}

void CountFraud(const std::vector<Txn>& txns, FraudStats* stats) {
  for (const Txn& t : txns) {
    switch (t.kind) {
      case FraudKind::kNone:
        continue;
      case FraudKind::kCardTesting:
        ++stats->fraud_card_testing;
        break;
      case FraudKind::kTakeover:
        ++stats->fraud_takeover;
        break;
      case FraudKind::kCompromisedMerchant:
        ++stats->fraud_compromised_merchant;
        break;
    }
    ++stats->fraud;
  }
}

int Digits(int64_t v) {
  int d = 1;
  while (v >= 10) v /= 10, ++d;
  return d;
}

core::Status WriteEvents(const std::string& path, const std::vector<Txn>& txns,
                         const std::vector<int32_t>& order, const World& world,
                         const IdWidths& widths, const std::function<void(double)>& progress) {
  JsonlFile file;
  SLUICE_RETURN_IF_ERROR(file.Open(path));
  const size_t step = std::max<size_t>(1, order.size() / 50);
  for (size_t i = 0; i < order.size(); ++i) {
    file.WriteEvent(txns[order[i]], order[i] + 1, world, widths);
    if (i % step == 0) progress(static_cast<double>(i) / order.size());
  }
  return file.Close();
}

core::Status WriteLabels(const std::string& path, const std::vector<Label>& labels,
                         const IdWidths& widths) {
  JsonlFile file;
  SLUICE_RETURN_IF_ERROR(file.Open(path));
  for (const Label& l : labels) file.WriteLabel(l, widths);
  return file.Close();
}

// Builds the world and every transaction, sorted by event time with the first at opts.start_ms.
std::vector<Txn> Simulate(const FraudOptions& o, const World& world, ProgressMeter* meter,
                          int32_t* episodes, FraudStats* stats) {
  const int64_t fraud_total = std::llround(static_cast<double>(o.events) * o.fraud_rate);
  const int64_t legit_total = o.events - fraud_total;
  Rng time_rng = Rng::Stream(o.seed, 4);
  const std::vector<int64_t> times =
      RhythmTimes(legit_total, world.start_ms(), world.end_ms(), time_rng);
  int64_t drift_ms = kNoDrift;
  if (o.drift_at > 0 && legit_total > 0)
    drift_ms = times[static_cast<size_t>(o.drift_at * legit_total)];
  std::vector<Txn> txns;
  txns.reserve(o.events);
  LegitStream(world, o.seed, drift_ms).Generate(times, &txns, meter->Phase(0.03, 0.45));
  *episodes = InjectFraud(world, o, fraud_total, drift_ms, &txns);
  meter->Report(0.5);
  // The legit part is already in time order: sort only the fraud and merge (both stable).
  const auto by_time = [](const Txn& a, const Txn& b) { return a.ts < b.ts; };
  const auto fraud_begin = txns.begin() + legit_total;
  std::stable_sort(fraud_begin, txns.end(), by_time);
  std::inplace_merge(txns.begin(), fraud_begin, txns.end(), by_time);
  // Trips and episodes were planned on the world's clock; start it exactly at start_ms.
  const int64_t shift = txns.empty() ? 0 : o.start_ms - txns.front().ts;
  for (Txn& t : txns) t.ts += shift;
  if (drift_ms != kNoDrift) stats->drift_ts = drift_ms + shift;
  meter->Report(0.55);
  return txns;
}

// Writes both files and fills the counts that depend on them.
core::Status WriteFiles(const FraudOptions& o, const World& world, const std::vector<Txn>& txns,
                        const std::vector<int32_t>& order, int32_t episodes, ProgressMeter* meter,
                        FraudStats* stats) {
  const IdWidths widths{std::max(9, Digits(o.events)), std::max(5, Digits(stats->users - 1)),
                        std::max(4, Digits(stats->merchants - 1))};
  SLUICE_RETURN_IF_ERROR(
      WriteEvents(o.out_path, txns, order, world, widths, meter->Phase(0.6, 0.97)));
  stats->events = static_cast<int64_t>(txns.size());
  // Labels are drawn even when not written, so the stats do not depend on labels_path.
  Rng label_rng = Rng::Stream(o.seed, 6);
  LabelCounts counts;
  const std::vector<Label> labels = MakeLabels(txns, episodes, label_rng, &counts);
  stats->unreported_fraud = counts.unreported_fraud;
  stats->false_chargebacks = counts.false_chargebacks;
  if (o.labels_path.empty()) return core::Status::Ok();
  SLUICE_RETURN_IF_ERROR(WriteLabels(o.labels_path, labels, widths));
  stats->labels = static_cast<int64_t>(labels.size());
  return core::Status::Ok();
}

}  // namespace

core::Status GenerateFraud(const FraudOptions& opts, FraudStats* stats_out,
                           const std::function<void(double)>& progress) {
  SLUICE_RETURN_IF_ERROR(Validate(opts));
  ProgressMeter meter(progress);
  meter.Report(0);
  FraudStats stats;
  stats.users = UserCount(opts);
  const World world = World::Build(WorldParams{opts.seed, stats.users, opts.start_ms,
                                               opts.start_ms + SpanMs(opts.events, stats.users)});
  stats.merchants = static_cast<int64_t>(world.merchants().size());
  int32_t episodes = 0;
  std::vector<Txn> txns = Simulate(opts, world, &meter, &episodes, &stats);
  CountFraud(txns, &stats);
  if (!txns.empty()) stats.first_ts = txns.front().ts, stats.last_ts = txns.back().ts;

  Rng arrival_rng = Rng::Stream(opts.seed, 5);
  const std::vector<int32_t> order =
      AssignArrivals(&txns, world.users().size(), world.merchants().size(), arrival_rng);
  const Disorder disorder =
      CountDisorder(txns, order, world.users().size(), world.merchants().size());
  stats.out_of_order = disorder.out_of_order;
  stats.late = disorder.late;
  meter.Report(0.6);

  SLUICE_RETURN_IF_ERROR(WriteFiles(opts, world, txns, order, episodes, &meter, &stats));
  if (stats_out != nullptr) *stats_out = stats;
  meter.Report(1.0);
  return core::Status::Ok();
}

}  // namespace sluice::gen
