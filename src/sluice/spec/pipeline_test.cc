#include "sluice/spec/pipeline.h"

#include <gtest/gtest.h>

namespace sluice::spec {
namespace {

const char* kBase = R"Y(name: t
event_time: {field: ts, unit: ms}
event_id: id
allowed_lateness: 5m
fields:
  id: string
  user: string
  amount: double
features:
  - {name: cnt, agg: count, key: user, window: 1h}
  - {name: avg, agg: mean, of: amount, key: user, window: 30d, resolution: 1h}
  - {name: r, expr: "amount / (avg + 1)"}
)Y";

TEST(Pipeline, ParsesExample) {
  auto p = ParsePipeline(kBase, "dir/spec.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->name, "t");
  EXPECT_EQ(p->features.size(), 3u);
  EXPECT_EQ(p->features[1].resolution->micros(), 3600LL * 1000000);
  EXPECT_EQ(p->state_ttl, core::Duration::Days(90));
  EXPECT_EQ(p->schema.Find("ts"), p->schema.time_index());
  EXPECT_EQ(p->base_dir, "dir");
}

TEST(Pipeline, ExactlyOnceNeedsKafkaInAndOut) {
  auto p = ParsePipeline(std::string(kBase) +
                             "source: {kafka: {brokers: a, topic: i, group: g}}\n"
                             "output: {kafka: {brokers: a, topic: o}, exactly_once: true}\n"
                             "dead_letter: {kafka: {brokers: a, topic: d}}\n",
                         "spec.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->output->exactly_once);
  auto q =
      ParsePipeline(std::string(kBase) + "output: {kafka: {brokers: a, topic: o}}\n", "s.yaml");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_FALSE(q->output->exactly_once);
}

// Each case appends or replaces text and expects "spec.yaml:LINE: KEY: ..." in the message.
struct BadCase {
  std::string text;
  std::string expect;
};

TEST(Pipeline, ErrorsNameFileLineAndKey) {
  std::string b = kBase;
  const BadCase cases[] = {
      {b + "bogus: 1\n", "spec.yaml:13: bogus: unknown key"},
      {b + "  - {name: x, agg: median, of: amount, key: user}\n",
       "spec.yaml:13: features[3].agg: unknown aggregation"},
      {b + "  - {name: x, agg: sum, of: nope, key: user}\n",
       "features[3].of: no field named 'nope'"},
      {b + "  - {name: x, agg: sum, of: user, key: user}\n",
       "features[3].of: sum needs a numeric field"},
      {b + "  - {name: x, agg: sum, of: amount, key: user, window: 1hour}\n", "features[3].window"},
      {b + "  - {name: x, agg: sum, of: amount, key: user, window: 1h, rows: 3}\n",
       "give either window or rows"},
      {b + "  - {name: x, agg: sum, of: amount, key: user, window: 1h, resolution: 7m}\n",
       "must be positive and divide"},
      {b + "  - {name: x, agg: ewma, of: amount, key: user}\n", "ewma needs half_life"},
      {b + "  - {name: x, agg: time_since_last, key: user, window: 1h}\n",
       "time_since_last takes no window"},
      {b + "  - {name: x, expr: \"y + 1\"}\n  - {name: y, expr: \"x * 2\"}\n",
       "cycle: x -> y -> x"},
      {b + "  - {name: x, expr: \"x + 1\"}\n", "cycle: x -> x"},
      {b + "  - {name: x, expr: \"user + 1\"}\n", "field 'user' is a string"},
      {b + "  - {name: x, expr: \"nope + 1\"}\n", "unknown name 'nope'"},
      {b + "  - {name: cnt, agg: count, key: user}\n", "feature 'cnt' defined twice"},
      {b + "  - {name: x, agg: count, key: user, exclude_current: yes}\n",
       "expected true or false"},
      {b + "state_ttl: 1h\n", "spec.yaml:13: state_ttl: must be at least"},
      {b + "  - {name: x, agg: count}\n", "an aggregation needs a key"},
      {b + "  - {name: x, agg: count, key: [user, user]}\n", "repeated"},
      {"name: t\nfields: {a: int}\nfeatures: [{name: c, agg: count, key: a}]\n",
       "event_time: required key is missing"},
      {b + "  - [unclosed\n", "YAML syntax error"},
      {b + "fields: {a: int}\n", "key given twice"},
      {b + "output: {file: o.jsonl, exactly_once: true}\n",
       "spec.yaml:13: output.exactly_once: needs output to kafka"},
      {b + "output: {kafka: {topic: o}, exactly_once: true}\n",
       "output.exactly_once: needs a kafka source"},
      {b + "source: {kafka: {brokers: a, topic: i}}\noutput: {kafka: {brokers: a, topic: o}, "
           "exactly_once: true}\ndead_letter: {kafka: {brokers: b, topic: d}}\n",
       "dead_letter.kafka: with output.exactly_once, dead letters on kafka must use the output's"},
      {b + "output: {kafka: {topic: o}, exactly_once: 1}\n", "expected true or false"},
      {b + "dead_letter: {file: d.jsonl, exactly_once: true}\n", "unknown key"},
  };
  for (const auto& c : cases) {
    auto p = ParsePipeline(c.text, "spec.yaml");
    ASSERT_FALSE(p.ok()) << c.expect;
    EXPECT_NE(p.status().message().find(c.expect), std::string::npos)
        << "got: " << p.status().message() << "\nwant: " << c.expect;
    EXPECT_EQ(p.status().message().rfind("spec.yaml:", 0), 0u) << p.status().message();
  }
}

}  // namespace
}  // namespace sluice::spec
