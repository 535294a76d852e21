#include "sluice/gen/fraud.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice::gen {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/sluice_gen_" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A flat JSON object of string and number values, parsed by hand: the key order and the raw text
// of each value, so the test also checks the exact shape the generator promises.
using Fields = std::vector<std::pair<std::string, std::string>>;

bool ParseFlatObject(const std::string& line, Fields* fields) {
  size_t i = 0;
  auto expect = [&](char c) { return i < line.size() && line[i++] == c; };
  if (!expect('{')) return false;
  while (true) {
    if (!expect('"')) return false;
    const size_t key_end = line.find('"', i);
    if (key_end == std::string::npos) return false;
    std::string key = line.substr(i, key_end - i);
    i = key_end + 1;
    if (!expect(':')) return false;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      const size_t end = line.find('"', i + 1);
      if (end == std::string::npos) return false;
      value = line.substr(i, end + 1 - i);
      i = end + 1;
    } else {
      const size_t end = line.find_first_not_of("-0123456789.", i);
      if (end == std::string::npos || end == i) return false;
      value = line.substr(i, end - i);
      i = end;
    }
    fields->emplace_back(std::move(key), std::move(value));
    if (i < line.size() && line[i] == '}') return i + 1 == line.size();
    if (!expect(',')) return false;
  }
}

double Number(const std::string& text) {
  double v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  EXPECT_EQ(r.ptr, text.data() + text.size()) << text;
  return v;
}

int64_t Integer(const std::string& text) {
  int64_t v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  EXPECT_EQ(r.ptr, text.data() + text.size()) << text;
  return v;
}

std::string Unquote(const std::string& s) { return s.size() >= 2 ? s.substr(1, s.size() - 2) : s; }

struct Event {
  std::string txn_id, user_id, merchant_id, category, channel;
  int64_t ts = 0;
  double amount = 0, lat = 0, lon = 0;
};

std::vector<Event> ParseEvents(const std::string& text) {
  static const std::vector<std::string> kKeys = {
      "txn_id", "ts", "user_id", "merchant_id", "category", "amount", "lat", "lon", "channel"};
  std::vector<Event> events;
  for (const std::string& line : Lines(text)) {
    Fields f;
    EXPECT_TRUE(ParseFlatObject(line, &f)) << line;
    if (f.size() != kKeys.size()) {
      ADD_FAILURE() << "wrong field count: " << line;
      continue;
    }
    for (size_t k = 0; k < kKeys.size(); ++k) EXPECT_EQ(f[k].first, kKeys[k]) << line;
    Event e{Unquote(f[0].second), Unquote(f[2].second), Unquote(f[3].second), Unquote(f[4].second),
            Unquote(f[8].second)};
    e.ts = Integer(f[1].second);
    e.amount = Number(f[5].second);
    e.lat = Number(f[6].second);
    e.lon = Number(f[7].second);
    const std::string& amount = f[5].second;
    EXPECT_EQ(amount.size() - amount.find('.'), 3u) << "amount needs 2 decimals: " << line;
    events.push_back(e);
  }
  return events;
}

struct Output {
  FraudStats stats;
  std::string events, labels;
};

Output Generate(FraudOptions o, const std::string& tag = "a") {
  o.out_path = TempPath(tag + "_events.jsonl");
  if (o.labels_path.empty()) o.labels_path = TempPath(tag + "_labels.jsonl");
  Output run;
  const core::Status st = GenerateFraud(o, &run.stats, nullptr);
  EXPECT_TRUE(st.ok()) << st.message();
  run.events = ReadFile(o.out_path);
  run.labels = ReadFile(o.labels_path);
  return run;
}

FraudOptions Options(int64_t events, uint64_t seed = 7) {
  FraudOptions o;
  o.events = events;
  o.seed = seed;
  return o;
}

TEST(GenerateFraud, SameOptionsGiveSameBytes) {
  const Output a = Generate(Options(20000), "a");
  const Output b = Generate(Options(20000), "b");
  EXPECT_FALSE(a.events.empty());
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.labels, b.labels);
  const Output c = Generate(Options(20000, 8), "c");
  EXPECT_NE(a.events, c.events);
  EXPECT_NE(a.labels, c.labels);
}

TEST(GenerateFraud, WritesExactlyTheRequestedRecordsInTheDocumentedShape) {
  FraudOptions o = Options(30000);
  const Output run = Generate(o);
  EXPECT_EQ(run.stats.events, o.events);
  const std::vector<Event> events = ParseEvents(run.events);
  ASSERT_EQ(static_cast<int64_t>(events.size()), o.events);
  std::set<std::string> ids;
  int64_t first_ts = events[0].ts;
  const std::set<std::string> channels = {"pos", "online", "atm"};
  for (const Event& e : events) {
    EXPECT_TRUE(ids.insert(e.txn_id).second) << "duplicate " << e.txn_id;
    EXPECT_EQ(e.txn_id.size(), 10u);
    EXPECT_EQ(e.txn_id[0], 't');
    EXPECT_EQ(e.user_id[0], 'u');
    EXPECT_EQ(e.merchant_id[0], 'm');
    EXPECT_TRUE(channels.count(e.channel)) << e.channel;
    EXPECT_FALSE(e.category.empty());
    EXPECT_GE(e.amount, 0.5);
    EXPECT_LE(std::abs(e.lat), 90);
    EXPECT_LE(std::abs(e.lon), 180);
    if (e.category == "atm") {
      EXPECT_EQ(e.channel, "atm");
    }
    first_ts = std::min(first_ts, e.ts);
  }
  EXPECT_EQ(first_ts, o.start_ms);
  EXPECT_EQ(run.stats.first_ts, o.start_ms);
  EXPECT_GT(run.stats.last_ts - run.stats.first_ts, 30 * 86400000LL);  // weeks of history
}

TEST(GenerateFraud, FraudRateAndPatternsInRange) {
  const Output run = Generate(Options(100000));
  const FraudStats& s = run.stats;
  const double rate = static_cast<double>(s.fraud) / s.events;
  EXPECT_GE(rate, 0.005);
  EXPECT_LE(rate, 0.015);
  EXPECT_EQ(s.fraud, s.fraud_card_testing + s.fraud_takeover + s.fraud_compromised_merchant);
  EXPECT_GT(s.fraud_card_testing, s.fraud / 5);
  EXPECT_GT(s.fraud_takeover, s.fraud / 5);
  EXPECT_GT(s.fraud_compromised_merchant, s.fraud / 10);
  // About 10% of fraud is never reported; a few legitimate payments are disputed anyway.
  EXPECT_GT(s.unreported_fraud, s.fraud / 20);
  EXPECT_LT(s.unreported_fraud, s.fraud / 4);
  EXPECT_GT(s.false_chargebacks, 0);
  EXPECT_EQ(s.labels, s.fraud - s.unreported_fraud + s.false_chargebacks);
}

TEST(GenerateFraud, LabelsAreSortedAndLandAfterTheirTransaction) {
  const Output run = Generate(Options(50000));
  std::unordered_map<std::string, int64_t> txn_ts;
  for (const Event& e : ParseEvents(run.events)) txn_ts[e.txn_id] = e.ts;
  const std::vector<std::string> lines = Lines(run.labels);
  ASSERT_EQ(static_cast<int64_t>(lines.size()), run.stats.labels);
  int64_t previous = 0;
  for (const std::string& line : lines) {
    Fields f;
    ASSERT_TRUE(ParseFlatObject(line, &f)) << line;
    ASSERT_EQ(f.size(), 3u) << line;
    EXPECT_EQ(f[0].first, "txn_id");
    EXPECT_EQ(f[1], (std::pair<std::string, std::string>("is_fraud", "1")));
    EXPECT_EQ(f[2].first, "ts");
    const int64_t ts = Integer(f[2].second);
    EXPECT_GE(ts, previous) << "labels out of order at " << line;
    previous = ts;
    auto it = txn_ts.find(Unquote(f[0].second));
    ASSERT_NE(it, txn_ts.end()) << line;
    EXPECT_GE(ts - it->second, 86400000LL) << line;
    EXPECT_LE(ts - it->second, 45 * 86400000LL) << line;
  }
}

TEST(GenerateFraud, SomeRecordsArriveOutOfOrderAndAFewTooLate) {
  const Output run = Generate(Options(100000));
  const std::vector<Event> events = ParseEvents(run.events);
  // Recount from the file what an engine keyed by user and merchant with 5m lateness would see.
  constexpr int64_t kLateness = 5 * 60000;
  std::unordered_map<std::string, int64_t> newest_user, newest_merchant;
  int64_t newest = 0, out_of_order = 0, late = 0;
  for (const Event& e : events) {
    auto u = newest_user.find(e.user_id);
    auto m = newest_merchant.find(e.merchant_id);
    if ((u != newest_user.end() && e.ts < u->second - kLateness) ||
        (m != newest_merchant.end() && e.ts < m->second - kLateness)) {
      ++late;
      continue;
    }
    if (e.ts < newest) ++out_of_order;
    newest = std::max(newest, e.ts);
    newest_user[e.user_id] = std::max(newest_user[e.user_id], e.ts);
    newest_merchant[e.merchant_id] = std::max(newest_merchant[e.merchant_id], e.ts);
  }
  EXPECT_EQ(out_of_order, run.stats.out_of_order);
  EXPECT_EQ(late, run.stats.late);
  EXPECT_GT(out_of_order, 500);  // about 1%
  EXPECT_LT(out_of_order, 1500);
  EXPECT_GT(late, 15);  // about 0.05%
  EXPECT_LT(late, 100);
}

double MeanAmount(const std::vector<Event>& events, int64_t from, int64_t to) {
  double sum = 0;
  int64_t n = 0;
  for (const Event& e : events) {
    if (e.ts >= from && e.ts < to) sum += e.amount, ++n;
  }
  return n > 0 ? sum / n : 0;
}

TEST(GenerateFraud, DriftShiftsAmountsAndMerchantMix) {
  FraudOptions o = Options(60000);
  o.drift_at = 0.5;
  const Output drifted = Generate(o, "drift");
  const int64_t at = drifted.stats.drift_ts;
  ASSERT_GT(at, drifted.stats.first_ts);
  ASSERT_LT(at, drifted.stats.last_ts);
  const std::vector<Event> events = ParseEvents(drifted.events);
  const double before = MeanAmount(events, 0, at), after = MeanAmount(events, at, INT64_MAX);
  EXPECT_GT(after, before * 1.2) << before << " -> " << after;
  std::set<std::string> categories_before, categories_after;
  for (const Event& e : events)
    (e.ts < at ? categories_before : categories_after).insert(e.category);
  EXPECT_FALSE(categories_before.count("food_delivery"));
  EXPECT_TRUE(categories_after.count("food_delivery"));

  const Output steady = Generate(Options(60000), "steady");
  EXPECT_EQ(steady.stats.drift_ts, -1);
  const std::vector<Event> plain = ParseEvents(steady.events);
  const int64_t middle = (steady.stats.first_ts + steady.stats.last_ts) / 2;
  const double first_half = MeanAmount(plain, 0, middle),
               second_half = MeanAmount(plain, middle, INT64_MAX);
  EXPECT_LT(std::abs(second_half / first_half - 1), 0.1) << first_half << " vs " << second_half;
}

TEST(GenerateFraud, ReportsProgressAtMostAHundredAndOneTimes) {
  FraudOptions o = Options(20000);
  o.out_path = TempPath("events.jsonl");
  std::vector<double> seen;
  FraudStats stats;
  ASSERT_TRUE(GenerateFraud(o, &stats, [&](double f) { seen.push_back(f); }).ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_LE(seen.size(), 101u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(seen.back(), 1.0);
  EXPECT_EQ(stats.labels, 0);  // no labels_path, no labels
}

TEST(GenerateFraud, RejectsBadOptions) {
  FraudStats stats;
  FraudOptions o = Options(100);
  o.out_path = TempPath("events.jsonl");
  for (double bad : {0.0, 1.0, 1.5}) {
    FraudOptions d = o;
    d.drift_at = bad;
    EXPECT_EQ(GenerateFraud(d, &stats, nullptr).code(), core::Code::kInvalidArgument) << bad;
  }
  FraudOptions negative = o;
  negative.events = -1;
  EXPECT_EQ(GenerateFraud(negative, &stats, nullptr).code(), core::Code::kInvalidArgument);
  FraudOptions no_out = o;
  no_out.out_path.clear();
  EXPECT_EQ(GenerateFraud(no_out, &stats, nullptr).code(), core::Code::kInvalidArgument);
  FraudOptions unwritable = o;
  unwritable.out_path = TempPath("no_such_dir/events.jsonl");
  const core::Status st = GenerateFraud(unwritable, &stats, nullptr);
  EXPECT_EQ(st.code(), core::Code::kIoError);
  EXPECT_NE(st.message().find("no_such_dir"), std::string::npos) << st.message();
}

TEST(GenerateFraud, HandlesTinyStreams) {
  for (int64_t n : {0, 1, 7, 500}) {
    FraudOptions o = Options(n);
    const Output run = Generate(o, "tiny" + std::to_string(n));
    EXPECT_EQ(run.stats.events, n);
    EXPECT_EQ(static_cast<int64_t>(Lines(run.events).size()), n);
  }
}

}  // namespace
}  // namespace sluice::gen
