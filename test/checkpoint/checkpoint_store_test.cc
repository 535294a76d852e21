// CheckpointStore: generations, deltas over them, cleanup, refusal of stale ids, and kill -9 at
// random moments (during full and incremental checkpoints) always leaving the previous or the new
// complete checkpoint.
#include "sluice/engine/checkpoint_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

namespace sluice::engine {
namespace {

std::string TempDir(const std::string& name) {
  const std::string dir =
      testing::TempDir() + "/sluice_ckpt_" + name + "_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

std::string Key(int i) { return "k" + std::to_string(i); }
std::string Value(uint64_t id, int i) { return std::to_string(id) + ":" + std::to_string(i * 7); }
int RecordsOf(uint64_t id) { return 3000 + static_cast<int>(id % 5) * 1000; }

core::Status WriteGeneration(CheckpointStore* store, uint64_t id, int n, bool commit) {
  auto w = store->Begin(id);
  if (!w.ok()) return w.status();
  for (int i = 0; i < n; ++i) SLUICE_RETURN_IF_ERROR((*w)->Put(Key(i), Value(id, i)));
  if (!commit) return core::Status::Ok();
  CheckpointInfo info{id, {{"topic", 3, 1000 + static_cast<int64_t>(id), 7}}, "header"};
  return (*w)->Commit(info);
}

// A delta that turns the current checkpoint (any id) into checkpoint `id`'s records: every key
// rewritten, the ones beyond RecordsOf(id) deleted. A torn delta would leave mixed values.
core::Status WriteDelta(CheckpointStore* store, uint64_t id) {
  auto w = store->BeginDelta(id);
  if (!w.ok()) return w.status();
  for (int i = 0; i < 7000; ++i) {
    SLUICE_RETURN_IF_ERROR(i < RecordsOf(id) ? (*w)->Put(Key(i), Value(id, i))
                                             : (*w)->Delete(Key(i)));
  }
  CheckpointInfo info{id, {{"topic", 3, 1000 + static_cast<int64_t>(id), 7}}, "header"};
  return (*w)->Commit(info);
}

// The current checkpoint is complete: its records are exactly those generation `id` wrote.
void ExpectComplete(CheckpointStore* store) {
  auto r = store->ReadLatest();
  ASSERT_TRUE(r.ok()) << r.status().message();
  const uint64_t id = (*r)->info().id;
  EXPECT_EQ((*r)->info().positions.at(0).offset, 1000 + static_cast<int64_t>(id));
  std::map<std::string, std::string> got;
  ASSERT_TRUE((*r)->ForEach([&](std::string_view k, std::string_view v) {
                    got.emplace(std::string(k), std::string(v));
                    return core::Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(static_cast<int>(got.size()), RecordsOf(id)) << "checkpoint " << id;
  for (int i = 0; i < RecordsOf(id); ++i) ASSERT_EQ(got[Key(i)], Value(id, i));
}

TEST(CheckpointStore, GenerationsCommitAbandonAndCleanup) {
  const std::string dir = TempDir("gen");
  {
    auto store = CheckpointStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status().message();
    EXPECT_EQ((*store)->ReadLatest().status().code(), core::Code::kNotFound);
    ASSERT_TRUE(WriteGeneration(store->get(), 1, RecordsOf(1), true).ok());
    ASSERT_TRUE(WriteGeneration(store->get(), 2, 500, false).ok());  // abandoned mid-way
    EXPECT_EQ((*store)->current_id(), 1u);
  }
  auto store = CheckpointStore::Open(dir);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Generations(), std::vector<uint64_t>{1});  // the half-written one dropped
  ExpectComplete(store->get());
  EXPECT_EQ((*store)->Begin(1).status().code(), core::Code::kInvalidArgument);
  ASSERT_TRUE(WriteGeneration(store->get(), 4, RecordsOf(4), true).ok());
  EXPECT_EQ((*store)->Generations(), std::vector<uint64_t>{4});  // the old one dropped
  ExpectComplete(store->get());
  EXPECT_EQ((*store)->ReadLatest().value()->info().positions[0],
            (SourcePosition{"topic", 3, 1004, 7}));
}

TEST(CheckpointStore, DeltasApplyOverTheGeneration) {
  const std::string dir = TempDir("delta");
  {
    auto store = CheckpointStore::Open(dir);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->BeginDelta(1).status().code(), core::Code::kInvalidArgument);  // no base
    ASSERT_TRUE(WriteGeneration(store->get(), 1, RecordsOf(1), true).ok());
    ASSERT_TRUE(WriteDelta(store->get(), 2).ok());
    ASSERT_TRUE(WriteDelta(store->get(), 3).ok());
    EXPECT_EQ((*store)->BeginDelta(3).status().code(), core::Code::kInvalidArgument);  // stale
    auto abandoned = (*store)->BeginDelta(4);  // never committed: never written
    ASSERT_TRUE(abandoned.ok());
    ASSERT_TRUE((*abandoned)->Put(Key(0), "torn").ok());
  }
  auto store = CheckpointStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ((*store)->current_id(), 3u);
  EXPECT_EQ((*store)->current_generation(), 1u);
  EXPECT_EQ((*store)->base_records(), RecordsOf(1));
  EXPECT_EQ((*store)->delta_records(), 2 * 7000);
  EXPECT_EQ((*store)->Generations(), std::vector<uint64_t>{1});
  ExpectComplete(store->get());
  ASSERT_TRUE(WriteGeneration(store->get(), 5, RecordsOf(5), true).ok());  // full: debt repaid
  EXPECT_EQ((*store)->Generations(), std::vector<uint64_t>{5});
  EXPECT_EQ((*store)->delta_records(), 0);
  ExpectComplete(store->get());
}

// Background jobs run one at a time, in order; a failed one's error is what the next Submit and
// Wait return (the runtime stops on it rather than write a delta over a checkpoint it lacks).
TEST(CheckpointStore, SubmitRunsJobsInOrderAndReportsErrors) {
  auto store = CheckpointStore::Open(TempDir("submit"));
  ASSERT_TRUE(store.ok());
  int ran = 0;
  ASSERT_TRUE((*store)->Submit([&] {
                       ++ran;
                       return core::Status::Ok();
                     })
                  .ok());
  ASSERT_TRUE((*store)->Submit([&] {
                       ran *= 10;
                       return core::Status::IoError("disk full");
                     })
                  .ok());
  EXPECT_EQ((*store)->Wait().code(), core::Code::kIoError);
  EXPECT_EQ(ran, 10);
  EXPECT_EQ((*store)->Submit([] { return core::Status::Ok(); }).code(), core::Code::kIoError);
}

// The child of the test below (skipped when run on its own): full checkpoints, and two deltas
// over each.
TEST(CheckpointStore, ChildWritesForever) {
  const char* dir = std::getenv("SLUICE_CKPT_CHILD_DIR");
  if (!dir) GTEST_SKIP() << "only run as the child of KillNineLeavesACompleteCheckpoint";
  auto store = CheckpointStore::Open(dir);
  if (!store.ok()) _exit(3);
  for (uint64_t id = (*store)->current_id() + 1;; ++id) {
    const bool delta = id % 3 != 0 && (*store)->current_id() != 0;
    if (!(delta ? WriteDelta(store->get(), id)
                : WriteGeneration(store->get(), id, RecordsOf(id), true))
             .ok())
      _exit(4);
  }
}

// A child process writes checkpoints in a loop and is killed with SIGKILL at a random moment;
// the store must then hold a complete checkpoint no older than the last one seen complete.
TEST(CheckpointStore, KillNineLeavesACompleteCheckpoint) {
  const std::string dir = TempDir("kill");
  std::mt19937 rng(7);
  uint64_t last = 0;
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // A fresh process image: RocksDB's background threads do not survive a bare fork.
      setenv("SLUICE_CKPT_CHILD_DIR", dir.c_str(), 1);
      execl("/proc/self/exe", "checkpoint_store_test",
            "--gtest_filter=CheckpointStore.ChildWritesForever", nullptr);
      _exit(5);
    }
    usleep(30'000 + rng() % 250'000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    auto store = CheckpointStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status().message();
    if ((*store)->current_id() == 0) continue;  // killed before the first commit
    EXPECT_GE((*store)->current_id(), last);
    last = (*store)->current_id();
    ExpectComplete(store->get());
    EXPECT_EQ((*store)->Generations().size(), 1u);
  }
  EXPECT_GT(last, 0u);
}

}  // namespace
}  // namespace sluice::engine
