#include "sluice/features/block_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "sluice/features/huge_pages.h"

namespace sluice::features {
namespace {

TEST(BlockPool, BlocksAreDistinctAlignedAndWritable) {
  BlockPool pool(48);
  std::set<char*> seen;
  std::vector<char*> blocks;
  for (int i = 0; i < 10000; ++i) {
    char* p = static_cast<char*>(pool.Get());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    std::memset(p, i & 0xff, 48);
    EXPECT_TRUE(seen.insert(p).second);
    blocks.push_back(p);
  }
  // No block overlaps another: each still holds what was written into it.
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(blocks[i][47], static_cast<char>(i & 0xff));
  EXPECT_GE(pool.blocks(), 10000u);
}

TEST(BlockPool, ReusesBlocksGivenBack) {
  BlockPool pool(64);
  std::vector<void*> first;
  for (int i = 0; i < 100; ++i) first.push_back(pool.Get());
  const size_t blocks = pool.blocks();
  for (void* p : first) pool.Put(p);
  std::set<void*> again;
  for (int i = 0; i < 100; ++i) again.insert(pool.Get());
  EXPECT_EQ(again, std::set<void*>(first.begin(), first.end()));
  EXPECT_EQ(pool.blocks(), blocks);  // no new slab
}

TEST(BlockPool, GrowsIntoHugePageSlabs) {
  const size_t mapped = MappedHugeBytes();
  auto owner = std::make_unique<BlockPool>(208);  // not a power of two: blocks straddle pages
  BlockPool& pool = *owner;
  std::vector<char*> blocks;
  for (int i = 0; i < 60000; ++i) {  // ~12 MB: past the 2 MiB slabs
    char* p = static_cast<char*>(pool.Get());
    std::memset(p, i & 0x7f, 208);
    blocks.push_back(p);
  }
  EXPECT_GE(pool.bytes(), 60000u * 208);
  EXPECT_GE(pool.blocks(), 60000u);
  for (int i = 0; i < 60000; ++i) {
    ASSERT_EQ(blocks[i][0], static_cast<char>(i & 0x7f));
    ASSERT_EQ(blocks[i][207], static_cast<char>(i & 0x7f));
  }
  // The slabs past the first 2 MiB are huge-page mappings, given back with the pool.
  EXPECT_GE(MappedHugeBytes() - mapped, size_t{8} << 20);
  owner.reset();
  EXPECT_EQ(MappedHugeBytes(), mapped);
}

}  // namespace
}  // namespace sluice::features
