#include "sluice/models/registry.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "sluice/models/sha256.h"
#include "sluice/models/test_util.h"

namespace sluice::models {
namespace {

std::unique_ptr<Registry> OpenOrDie(const std::string& dir) {
  auto r = Registry::Open(dir);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(*r);
}

NewVersion Version(const std::string& name, const std::string& bytes) {
  NewVersion v;
  v.name = name;
  v.artifact = bytes;
  v.created_by = "tester";
  return v;
}

TEST(Registry, NumbersVersionsPerNameAndKeepsEveryField) {
  TempDir dir;
  auto reg = OpenOrDie(dir.path());
  NewVersion v = Version("fraud", "bytes-1");
  v.spec_hash = "spec123";
  v.training_digest = "data456";
  v.params = {{"eta", "0.1"}, {"note", "a \"quoted\" value"}};
  v.metrics_json = R"({"auc":0.93})";
  v.reason = "first";
  auto v1 = reg->Register(v);
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  EXPECT_EQ(v1->version, 1);
  ASSERT_EQ(reg->Register(Version("other", "x"))->version, 1);
  NewVersion child = Version("fraud", "bytes-2");
  child.parent = 1;
  auto v2 = reg->Register(child);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);

  auto got = reg->GetVersion("fraud", 1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->artifact_sha256, Sha256Hex("bytes-1"));
  EXPECT_EQ(got->artifact_bytes, 7);
  EXPECT_EQ(got->spec_hash, "spec123");
  EXPECT_EQ(got->training_digest, "data456");
  EXPECT_EQ(got->params_json, R"({"eta":"0.1","note":"a \"quoted\" value"})");
  EXPECT_EQ(got->metrics_json, R"({"auc":0.93})");
  EXPECT_EQ(got->created_by, "tester");
  EXPECT_EQ(got->reason, "first");
  EXPECT_EQ(got->format, "opaque");
  EXPECT_EQ(got->created_at.size(), 24u);  // 2026-11-25T01:02:03.456Z

  auto lineage = reg->Lineage("fraud", 2);
  ASSERT_TRUE(lineage.ok());
  ASSERT_EQ(lineage->size(), 2u);
  EXPECT_EQ((*lineage)[1].version, 1);
  auto latest = reg->Resolve("fraud", "latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 2);
}

TEST(Registry, RefusesBadRequests) {
  TempDir dir;
  auto reg = OpenOrDie(dir.path());
  NewVersion bad_parent = Version("m", "b");
  bad_parent.parent = 1;
  EXPECT_NE(reg->Register(bad_parent).status().message().find("parent version 1"),
            std::string::npos);
  EXPECT_FALSE(reg->Register(Version("../etc", "b")).ok());
  NewVersion bad_metrics = Version("m", "b");
  bad_metrics.metrics_json = "[1,2]";
  EXPECT_FALSE(reg->Register(bad_metrics).ok());
  NewVersion bad_model = Version("m", R"({"format":"sluice-linear","version":1})");
  EXPECT_FALSE(reg->Register(bad_model).ok());
  EXPECT_EQ(reg->GetVersion("m", 1).status().code(), core::Code::kNotFound);
  EXPECT_EQ(Registry::Open(dir.path() + "/absent", {.create = false}).status().code(),
            core::Code::kNotFound);
}

TEST(Registry, RecordedRowsCannotBeRewritten) {
  TempDir dir;
  auto reg = OpenOrDie(dir.path());
  ASSERT_TRUE(reg->Register(Version("m", "b")).ok());
  ASSERT_TRUE(reg->SetAlias("m", "production", 1, "me", "").ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/registry.db").c_str(), &db), SQLITE_OK);
  for (const char* sql : {"UPDATE versions SET artifact_sha256 = 'x'", "DELETE FROM versions",
                          "UPDATE alias_history SET by = 'x'", "DELETE FROM alias_history"}) {
    EXPECT_NE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  }
  sqlite3_close(db);
}

TEST(Registry, AliasesRollBackThroughTheirHistory) {
  TempDir dir;
  auto reg = OpenOrDie(dir.path());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(reg->Register(Version("m", std::to_string(i))).ok());
  for (int v = 1; v <= 3; ++v) ASSERT_TRUE(reg->SetAlias("m", "production", v, "ann", "ship").ok());
  ASSERT_TRUE(reg->SetAlias("m", "canary", 3, "bob", "try").ok());
  auto same = reg->SetAlias("m", "production", 3, "ann", "again");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->from, 3);  // no change, not recorded
  auto r1 = reg->Rollback("m", "production", "carl", "bad auc");
  ASSERT_TRUE(r1.ok()) << r1.status().message();
  EXPECT_EQ(r1->from, 3);
  EXPECT_EQ(r1->to, 2);
  EXPECT_EQ(reg->Resolve("m", "production")->version, 2);
  ASSERT_EQ(reg->Rollback("m", "production", "carl", "")->to, 1);
  EXPECT_EQ(reg->Rollback("m", "production", "carl", "").status().code(), core::Code::kNotFound);
  EXPECT_EQ(reg->Resolve("m", "canary")->version, 3);  // other aliases untouched

  auto h = reg->History("m", "production");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 5u);
  EXPECT_EQ((*h)[0].action, "set");
  EXPECT_FALSE((*h)[0].from.has_value());
  EXPECT_EQ((*h)[3].action, "rollback");
  EXPECT_EQ((*h)[3].by, "carl");
  EXPECT_EQ((*h)[3].reason, "bad auc");
  EXPECT_EQ(reg->History("m")->size(), 6u);
  // A new set after rollbacks is undone back to where the alias was before it.
  ASSERT_TRUE(reg->SetAlias("m", "production", 3, "ann", "").ok());
  EXPECT_EQ(reg->Rollback("m", "production", "ann", "")->to, 1);
  EXPECT_EQ(reg->SetAlias("m", "production", 9, "ann", "").status().code(), core::Code::kNotFound);
  EXPECT_FALSE(reg->SetAlias("m", "latest", 1, "ann", "").ok());
}

TEST(Registry, LoadingATamperedArtifactIsCorruption) {
  TempDir dir;
  auto reg = OpenOrDie(dir.path());
  auto v = reg->Register(Version("m", "original"));
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(*reg->LoadArtifact(*v), "original");
  std::ofstream(reg->store().PathOf(v->artifact_sha256), std::ios::trunc) << "tampered";
  auto bytes = reg->LoadArtifact(*v);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), core::Code::kCorruption);
  EXPECT_NE(bytes.status().message().find("m v1"), std::string::npos);
}

TEST(Registry, ConcurrentWritersGetDistinctConsecutiveVersions) {
  TempDir dir;
  { OpenOrDie(dir.path()); }
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> got(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto reg = Registry::Open(dir.path());  // one connection per thread
      ASSERT_TRUE(reg.ok());
      for (int i = 0; i < kEach; ++i) {
        auto v = (*reg)->Register(Version("m", std::to_string(t) + "/" + std::to_string(i)));
        ASSERT_TRUE(v.ok()) << v.status().message();
        got[t].push_back(v->version);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int64_t> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<int64_t>(i + 1));
}

}  // namespace
}  // namespace sluice::models
