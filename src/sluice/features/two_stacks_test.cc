#include "sluice/features/two_stacks.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "sluice/features/event_store.h"

namespace sluice::features {
namespace {

// Random pushes, pops and middle inserts against a brute-force fold of the same window.
TEST(TwoStacks, MatchesBruteForceUnderPushPopInsert) {
  Ops ops;
  ops.Add(OpKind::kSum, 0, 0);
  ops.Add(OpKind::kMin, 0, 0);
  ops.Add(OpKind::kMax, 0, 0);
  ops.Add(OpKind::kCountAll, -1, 0);
  TwoStacks ts;
  ts.Init(&ops);
  std::deque<double> window;
  std::mt19937_64 rng(11);
  auto partial_of = [&](int64_t k, double* p) {
    Slot s{.d = window[k]};
    ops.Lift(0, k, &s, p);
  };
  std::vector<double> lift(ops.width()), got(ops.width());
  for (int step = 0; step < 20000; ++step) {
    const int action = static_cast<int>(rng() % 10);
    if (action < 5 || window.empty()) {
      double x = static_cast<double>(rng() % 1000) - 500;
      window.push_back(x);
      Slot s{.d = x};
      ops.Lift(0, 0, &s, lift.data());
      ts.PushBack(lift.data());
    } else if (action < 9) {
      ts.PopFront(partial_of);
      window.pop_front();
    } else {
      const int64_t k = static_cast<int64_t>(rng() % (window.size() + 1));
      double x = static_cast<double>(rng() % 1000) - 500;
      window.insert(window.begin() + k, x);
      Slot s{.d = x};
      ops.Lift(0, 0, &s, lift.data());
      ts.Insert(k, lift.data(), partial_of);
    }
    ts.Query(got.data());
    double sum = 0, mn = NAN, mx = NAN;
    for (double x : window) {
      sum += x;
      mn = std::isnan(mn) || x < mn ? x : mn;
      mx = std::isnan(mx) || x > mx ? x : mx;
    }
    ASSERT_EQ(ts.size(), static_cast<int64_t>(window.size()));
    ASSERT_EQ(got[0], sum) << "step " << step;  // integers: exact
    if (window.empty()) {
      ASSERT_TRUE(std::isnan(got[1]));
    } else {
      ASSERT_EQ(got[1], mn);
      ASSERT_EQ(got[2], mx);
    }
    ASSERT_EQ(got[3], static_cast<double>(window.size()));
  }
}

TEST(EventStore, SortedRingWithInserts) {
  EventStore store(1);
  std::deque<int64_t> times;
  std::mt19937_64 rng(5);
  for (int step = 0; step < 5000; ++step) {
    if (rng() % 4 != 0 || times.empty()) {
      const int64_t t = times.empty() ? 0 : times.back() - static_cast<int64_t>(rng() % 5) + 3;
      const int64_t i = store.UpperBound(t);
      Slot s{.d = static_cast<double>(t)};
      store.Insert(i, t, step, &s);
      times.insert(std::upper_bound(times.begin(), times.end(), t), t);
    } else {
      store.PopFront();
      times.pop_front();
    }
    ASSERT_EQ(store.size(), static_cast<int64_t>(times.size()));
    for (size_t i = 0; i < times.size(); i += 1 + times.size() / 8) {
      ASSERT_EQ(store.time(static_cast<int64_t>(i)), times[i]);
      ASSERT_EQ(store.slots(static_cast<int64_t>(i))->d, static_cast<double>(times[i]));
    }
  }
}

}  // namespace
}  // namespace sluice::features
