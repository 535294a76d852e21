#pragma once
// Legitimate spending: when card holders pay (a daily and weekly rhythm), who pays (active
// people more often, often several times within the hour), where (favourite merchants, exploring,
// trips, lunchtime rushes at busy shops) and how much. Internal to the gen module; not thread-safe.
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "sluice/gen/random.h"
#include "sluice/gen/txn.h"
#include "sluice/gen/world.h"

namespace sluice::gen {

// `count` sorted event times in [start_ms, end_ms), denser by day than by night and on weekends.
std::vector<int64_t> RhythmTimes(int64_t count, int64_t start_ms, int64_t end_ms, Rng& rng);

class LegitStream {
 public:
  // From `drift_ms` on (kNoDrift: never) the merchant mix and the amounts shift.
  LegitStream(const World& world, uint64_t seed, int64_t drift_ms);

  // Appends one transaction per time in `times` (sorted); progress(fraction) as it goes.
  void Generate(const std::vector<int64_t>& times, std::vector<Txn>* out,
                const std::function<void(double)>& progress);

 private:
  struct Rush {
    int64_t start_ms, end_ms;
    int32_t city, merchant;
    double share;  // of all transactions in the window that go to the rushed merchant
  };
  // A purchase that leads to another soon after: a shopping trip, a second order, in-game buys.
  struct FollowUp {
    int64_t due_ms;
    int64_t seq;  // ties break by creation order, so the heap pops the same way everywhere
    int32_t user, merchant;  // merchant -1: choose afresh
    bool operator>(const FollowUp& o) const {
      return due_ms != o.due_ms ? due_ms > o.due_ms : seq > o.seq;
    }
  };

  void PlanRushes();
  bool TryRush(int64_t ts, int32_t* user, int32_t* merchant);
  void MaybeFollowUp(const Txn& t);
  int32_t ChooseMerchant(int32_t user, int32_t city, bool drifted);
  Txn Make(int64_t ts, int32_t user, int32_t merchant, int32_t city, bool drifted);

  const World& world_;
  Rng rng_;
  int64_t drift_ms_;
  std::vector<Rush> rushes_;
  size_t next_rush_ = 0;
  std::priority_queue<FollowUp, std::vector<FollowUp>, std::greater<FollowUp>> follow_ups_;
  int64_t follow_up_seq_ = 0;
};

}  // namespace sluice::gen
