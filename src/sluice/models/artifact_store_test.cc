#include "sluice/models/artifact_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "sluice/models/file_util.h"
#include "sluice/models/sha256.h"
#include "sluice/models/test_util.h"

namespace sluice::models {
namespace {

TEST(Sha256, KnownVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.FinishHex(), Sha256Hex("abc"));
  EXPECT_TRUE(IsSha256Hex(Sha256Hex("x")));
  EXPECT_FALSE(IsSha256Hex("ABC"));
}

TEST(ArtifactStore, StoresByContentAndReadsBack) {
  TempDir dir;
  ArtifactStore store(dir.path());
  auto sha = store.Put("model bytes");
  ASSERT_TRUE(sha.ok()) << sha.status().message();
  EXPECT_EQ(*sha, Sha256Hex("model bytes"));
  EXPECT_EQ(store.PathOf(*sha), dir.path() + "/sha256/" + sha->substr(0, 2) + "/" + sha->substr(2));
  auto again = store.Put("model bytes");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *sha);
  auto bytes = store.Get(*sha);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "model bytes");
}

TEST(ArtifactStore, RefusesTamperedBytes) {
  TempDir dir;
  ArtifactStore store(dir.path());
  auto sha = store.Put("weights v1");
  ASSERT_TRUE(sha.ok());
  std::ofstream(store.PathOf(*sha), std::ios::trunc) << "weights v2";
  auto bytes = store.Get(*sha);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), core::Code::kCorruption);
  EXPECT_NE(bytes.status().message().find("corrupted"), std::string::npos);
  EXPECT_FALSE(store.Verify(*sha).ok());
  // Putting the original bytes again repairs the copy.
  ASSERT_TRUE(store.Put("weights v1").ok());
  EXPECT_TRUE(store.Verify(*sha).ok());
}

TEST(ArtifactStore, MissingAndMalformedDigests) {
  TempDir dir;
  ArtifactStore store(dir.path());
  EXPECT_EQ(store.Get(Sha256Hex("never stored")).status().code(), core::Code::kNotFound);
  EXPECT_EQ(store.Get("../../etc/passwd").status().code(), core::Code::kInvalidArgument);
}

TEST(FileUtil, AtomicWriteReplacesWholeFile) {
  TempDir dir;
  const std::string path = dir.path() + "/a/b/f.txt";
  ASSERT_TRUE(MakeDirs(dir.path() + "/a/b").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "first version, longer").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  auto text = ReadWholeFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "second");
  EXPECT_EQ(ReadWholeFile(dir.path() + "/nope").status().code(), core::Code::kNotFound);
}

}  // namespace
}  // namespace sluice::models
