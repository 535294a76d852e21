#include "sluice/io/decoder.h"

#include <gtest/gtest.h>

#include "sluice/io/dead_letter.h"

namespace sluice::io {
namespace {

core::Schema TestSchema(core::TimeUnit unit = core::TimeUnit::kMillis) {
  return core::Schema({{"id", core::FieldType::kString},
                       {"amount", core::FieldType::kDouble},
                       {"n", core::FieldType::kInt},
                       {"ok", core::FieldType::kBool}},
                      "ts", unit);
}

struct Decoded {
  bool ok;
  DecodeError err;
  std::vector<core::Value> values;
  core::EventTime time;
  std::shared_ptr<StringArena> arena = std::make_shared<StringArena>();
};

Decoded DecodeOne(Decoder* d, const core::Schema& s, std::string text) {
  Decoded out;
  out.values.resize(s.size());
  text.reserve(text.size() + 64);
  out.ok = d->Decode(text, out.values.data(), &out.time, out.arena.get(), &out.err);
  return out;
}

TEST(JsonlDecoder, Types) {
  auto s = TestSchema();
  auto d = MakeJsonlDecoder(s, false);
  auto r = DecodeOne(d.get(), s,
                     R"({"id":"a\"b","amount":2,"n":7,"ok":true,"ts":1700000000123,"extra":[1]})");
  ASSERT_TRUE(r.ok) << r.err.detail;
  EXPECT_EQ(r.values[0].s, "a\"b");
  EXPECT_EQ(r.values[1].d, 2.0);
  EXPECT_EQ(r.values[2].i, 7);
  EXPECT_TRUE(r.values[3].b);
  EXPECT_EQ(r.time.micros(), 1700000000123000);
  auto n = DecodeOne(d.get(), s, R"({"id":null,"ts":5})");
  ASSERT_TRUE(n.ok);
  EXPECT_TRUE(n.values[0].is_null());
  EXPECT_TRUE(n.values[1].is_null());
}

TEST(JsonlDecoder, BadRecordsGetReasons) {
  auto s = TestSchema();
  auto d = MakeJsonlDecoder(s, false);
  struct Case {
    const char* text;
    core::Reason reason;
    const char* detail;
  };
  const Case cases[] = {
      {R"({"id":"a","ts":1)", core::Reason::kParseError, "invalid JSON"},
      {R"({"amount":NaN,"ts":1})", core::Reason::kParseError, "invalid JSON"},
      {R"([1,2])", core::Reason::kSchema, "not a JSON object"},
      {R"({"amount":"12","ts":1})", core::Reason::kSchema,
       "field 'amount' should be double, got a string"},
      {R"({"n":1.5,"ts":1})", core::Reason::kSchema, "field 'n' should be int"},
      {R"({"ok":1,"ts":1})", core::Reason::kSchema, "field 'ok' should be bool"},
      {R"({"id":{},"ts":1})", core::Reason::kSchema, "got an object"},
      {R"({"id":"a"})", core::Reason::kSchema, "missing event time"},
      {R"({"ts":-5})", core::Reason::kBadTime, "out of range"},
      {R"({"ts":1e300})", core::Reason::kBadTime, "out of range"},
      {R"({"ts":"2024-01-01T00:00:00Z"})", core::Reason::kBadTime, "expected a number"},
      {R"({"ts":1,"ts":2})", core::Reason::kSchema, "given twice"},
      {"{\"id\":\"\xff\xfe\",\"ts\":1}", core::Reason::kParseError, "invalid JSON"},
      {"\xEF\xBB\xBF{\"ts\":1}", core::Reason::kParseError, "invalid JSON"},
      {"", core::Reason::kParseError, "invalid JSON"},
      {R"({"id":17,"ts":1})", core::Reason::kSchema, "field 'id' should be string, got an integer"},
      {R"({"n":2.0,"ts":1})", core::Reason::kSchema, "field 'n' should be int"},
      {R"({"n":"x","ts":-1})", core::Reason::kBadTime, "out of range"},
      {R"({"ts":null})", core::Reason::kSchema, "missing event time"},
      {R"({"ts":{}})", core::Reason::kBadTime, "is an object"},
  };
  for (const auto& c : cases) {
    auto r = DecodeOne(d.get(), s, c.text);
    EXPECT_FALSE(r.ok) << c.text;
    EXPECT_EQ(r.err.reason, c.reason) << c.text << " -> " << r.err.detail;
    EXPECT_NE(r.err.detail.find(c.detail), std::string::npos) << c.text << " -> " << r.err.detail;
  }
}

TEST(JsonlDecoder, RejectsUnknownWhenAsked) {
  auto s = TestSchema();
  auto d = MakeJsonlDecoder(s, true);
  auto r = DecodeOne(d.get(), s, R"({"ts":1,"zzz":2})");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.err.detail, "unknown field 'zzz'");
}

TEST(JsonlDecoder, IsoTimes) {
  auto s = TestSchema(core::TimeUnit::kIso8601);
  auto d = MakeJsonlDecoder(s, false);
  auto r = DecodeOne(d.get(), s, R"({"ts":"1970-01-01T00:00:01.5Z"})");
  ASSERT_TRUE(r.ok) << r.err.detail;
  EXPECT_EQ(r.time.micros(), 1500000);
  EXPECT_EQ(DecodeOne(d.get(), s, R"({"ts":17})").err.reason, core::Reason::kBadTime);
}

// DecodeTime against Decode (the oracle): the same time whenever both read one, a time for
// records whose only faults lie elsewhere, none where the time itself is missing or bad.
TEST(Decoder, DecodeTimeAgreesWithDecode) {
  for (const auto unit : {core::TimeUnit::kMillis, core::TimeUnit::kIso8601}) {
    auto s = TestSchema(unit);
    const bool iso = unit == core::TimeUnit::kIso8601;
    const std::string t1 = iso ? R"("2024-03-01T10:00:00.25Z")" : "1709287200250";
    const std::string t2 = iso ? R"("1970-01-01T00:00:01Z")" : "1000";
    const int64_t us1 = 1709287200250000, us2 = 1000000;
    struct Case {
      std::string text;
      int64_t want;  // -1: no time
    };
    const std::vector<Case> cases = {
        {R"({"id":"a","amount":2,"n":7,"ok":true,"ts":)" + t1 + "}", us1},
        {R"({"ts":)" + t2 + R"(,"id":"a\"}b","extra":{"ts":[1,{"ts":3}]}})", us2},
        {R"({"extra":{"ts":5},"ts":)" + t1 + "}", us1},
        // a fraction of more than 19 digits (the fuzzer's finding: rounded as the DOM does)
        {iso ? R"({"ts":"1970-01-01T01:55:04.953922Z"})" : R"({"ts":6904.9539223372036854775})",
         iso ? 6904953922 : 6904954},
        {iso ? R"({"ts":"1970-01-01T00:00:00.000059Z"})"
             : R"({"ts": 0.05922337203685477580892233720368506 })",
         59},
        {R"({"amount":"12","ts":)" + t1 + "}", us1},         // field error after the time
        {R"({"ts":)" + t2 + R"(,"n":1.5})", us2},            // field error after the time
        {R"({"ts":)" + t2 + R"(,"id":"a")", -1},             // cut short: not a document
        {R"({"ts":)" + t1 + R"(,"ts":)" + t2 + "}", us1},   // given twice: Decode refuses
        {R"({"id":"a"})", -1},
        {R"({"ts":null})", -1},
        {R"({"ts":{}})", -1},
        {R"({"ts":[1]})", -1},
        {R"({"ts":true})", -1},
        {R"([1,2])", -1},
        {"", -1},
        {"{\"ts\":" + std::string(iso ? "17" : "\"2024-01-01T00:00:00Z\"") + "}", -1},
        {R"({"ts":-5})", -1},
        {R"({"ts":1e300})", -1},
        {R"({"ts":"not a time"})", -1},
        {R"({"ts":18446744073709551615})", -1},
    };
    auto d = MakeJsonlDecoder(s, false);
    auto oracle = MakeJsonlDecoder(s, false);
    for (const auto& c : cases) {
      std::string text = c.text;
      text.reserve(text.size() + 64);
      std::vector<core::Value> scratch(s.size());
      StringArena arena;
      core::EventTime t;
      const bool got = d->DecodeTime(text, scratch.data(), &arena, &t);
      EXPECT_EQ(got, c.want >= 0) << c.text;
      if (got) {
        EXPECT_EQ(t.micros(), c.want) << c.text;
      }
      const Decoded full = DecodeOne(oracle.get(), s, c.text);
      if (full.ok) {
        EXPECT_TRUE(got) << c.text;
        EXPECT_EQ(t.micros(), full.time.micros()) << c.text;
      }
    }
  }
  // CSV takes the default: the whole row decoded.
  auto s = TestSchema();
  auto d = MakeCsvDecoder(s, ',', false);
  ASSERT_TRUE(d->SetHeader("ts,id,amount,other,n,ok").ok());
  std::string row = "1000,x,2.5,zz,,true";
  row.reserve(row.size() + 64);
  std::vector<core::Value> scratch(s.size());
  StringArena arena;
  core::EventTime t;
  ASSERT_TRUE(d->DecodeTime(row, scratch.data(), &arena, &t));
  EXPECT_EQ(t.micros(), 1000000);
  std::string bad = "x,a,2,,,";
  bad.reserve(bad.size() + 64);
  EXPECT_FALSE(d->DecodeTime(bad, scratch.data(), &arena, &t));
}

TEST(CsvDecoder, HeaderAndRows) {
  auto s = TestSchema();
  auto d = MakeCsvDecoder(s, ',', false);
  ASSERT_TRUE(d->SetHeader("ts,id,amount,other,n,ok").ok());
  auto r = DecodeOne(d.get(), s, "1000,\"x,\"\"y\"\"\",2.5,zz,,true");
  ASSERT_TRUE(r.ok) << r.err.detail;
  EXPECT_EQ(r.values[0].s, "x,\"y\"");
  EXPECT_EQ(r.values[1].d, 2.5);
  EXPECT_TRUE(r.values[2].is_null());
  EXPECT_EQ(r.time.micros(), 1000000);
  EXPECT_EQ(DecodeOne(d.get(), s, "1,a,nan,,,").err.reason, core::Reason::kSchema);
  EXPECT_EQ(DecodeOne(d.get(), s, "1,a,2").err.reason, core::Reason::kParseError);
  EXPECT_EQ(DecodeOne(d.get(), s, "1,a\"b,2,,,").err.reason, core::Reason::kParseError);
  EXPECT_EQ(DecodeOne(d.get(), s, "x,a,2,,,").err.reason, core::Reason::kBadTime);
  EXPECT_FALSE(d->SetHeader("id,amount").ok());
}

TEST(DeadLetter, JsonKeepsExactBytes) {
  DeadLetter dl;
  dl.reason = core::Reason::kParseError;
  dl.detail = "bad";
  dl.source = "e.jsonl";
  dl.position = 12;
  dl.record = std::string_view("a\"\xff\n", 4);
  std::string out;
  AppendDeadLetterJson(dl, &out);
  EXPECT_EQ(out,
            "{\"reason\":\"parse_error\",\"detail\":\"bad\",\"source\":\"e.jsonl:12\",\"record\":"
            "\"a\\\"\xEF\xBF\xBD\\n\","
            "\"record_base64\":\"YSL/Cg==\"}\n");
}

}  // namespace
}  // namespace sluice::io
