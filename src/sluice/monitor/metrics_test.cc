#include "sluice/monitor/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::monitor {
namespace {

TEST(Metrics, RendersTheTextFormat) {
  Registry r;
  r.GetCounter("sluice_events_total", "Events read.", {{"result", "applied"}})->Inc(3);
  r.GetCounter("sluice_events_total", "Events read.", {{"result", "dead_letter"}})->Inc();
  r.GetGauge("sluice_keys", "Live keys.")->Set(42);
  Histogram* h = r.GetHistogram("sluice_event_latency_seconds", "Ingest to output.", {0.001, 0.01});
  h->Observe(0.0005);
  h->ObserveMany(0.005, 2);
  h->Observe(1);
  EXPECT_EQ(r.Render(),
            "# HELP sluice_event_latency_seconds Ingest to output.\n"
            "# TYPE sluice_event_latency_seconds histogram\n"
            "sluice_event_latency_seconds_bucket{le=\"0.001\"} 1\n"
            "sluice_event_latency_seconds_bucket{le=\"0.01\"} 3\n"
            "sluice_event_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "sluice_event_latency_seconds_sum 1.0105\n"
            "sluice_event_latency_seconds_count 4\n"
            "# HELP sluice_events_total Events read.\n"
            "# TYPE sluice_events_total counter\n"
            "sluice_events_total{result=\"applied\"} 3\n"
            "sluice_events_total{result=\"dead_letter\"} 1\n"
            "# HELP sluice_keys Live keys.\n"
            "# TYPE sluice_keys gauge\n"
            "sluice_keys 42\n");
}

TEST(Metrics, SameNameAndLabelsIsTheSameMetric) {
  Registry r;
  Counter* a = r.GetCounter("x_total", "h", {{"k", "v"}});
  EXPECT_EQ(a, r.GetCounter("x_total", "h", {{"k", "v"}}));
  EXPECT_NE(a, r.GetCounter("x_total", "h", {{"k", "w"}}));
}

TEST(Metrics, LabelValuesAreEscaped) {
  Registry r;
  r.GetCounter("x_total", "h", {{"reason", "a\"b\\c\nd"}})->Inc();
  EXPECT_NE(r.Render().find("x_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry r;
  Counter* c = r.GetCounter("n_total", "h");
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([c] {
      for (int i = 0; i < 10000; ++i) c->Inc();
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(c->value(), 40000);
}

}  // namespace
}  // namespace sluice::monitor
