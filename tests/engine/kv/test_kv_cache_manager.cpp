// Exact block ids, reference counts and eviction order of the paged KV cache with prefix caching.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <numeric>

#include "engine/kv/kv_cache_manager.h"

using namespace batchscope::engine;

namespace {
std::vector<TokenId> iota(int n, int start = 0) {
    std::vector<TokenId> v(std::size_t(n), 0);
    std::iota(v.begin(), v.end(), start);
    return v;
}
void expectValid(const KVCacheManager& kv) {
    auto err = kv.checkInvariants();
    EXPECT_FALSE(err.has_value()) << *err;
}
}  // namespace

TEST(KVCacheManager, AllocatesFromTheFrontAndFreesTailFirst) {
    KVCacheManager kv({8, 4, true});
    ASSERT_TRUE(kv.allocate(1, {}, 10));  // 3 blocks
    EXPECT_EQ(std::vector<BlockId>(kv.blockTable(1).begin(), kv.blockTable(1).end()), (std::vector<BlockId>{0, 1, 2}));
    EXPECT_EQ(kv.usedBlocks(), 3);
    EXPECT_EQ(kv.freeBlocks(), 5);
    kv.free(1);
    // Freed tail first: 2, 1, 0 appended after the never-used 3..7.
    EXPECT_EQ(kv.evictionOrder(), (std::vector<BlockId>{3, 4, 5, 6, 7, 2, 1, 0}));
    expectValid(kv);
}

TEST(KVCacheManager, ReusesTheLongestCachedPrefixAndNeverTheLastToken) {
    KVCacheManager kv({16, 4, true});
    auto prompt = iota(12);  // 3 full blocks
    ASSERT_TRUE(kv.allocate(1, {}, 12));
    kv.commitComputed(1, prompt, 12);
    kv.free(1);
    EXPECT_EQ(kv.cachedBlocks(), 3);
    // Same 12 tokens: only 2 blocks may be reused (the last token must be computed).
    PrefixMatch m = kv.findCachedPrefix(prompt);
    EXPECT_EQ(m.blocks, (std::vector<BlockId>{0, 1}));
    EXPECT_EQ(m.tokens, 8);
    // 13 tokens sharing 12: all 3 blocks reused.
    auto longer = iota(13);
    m = kv.findCachedPrefix(longer);
    EXPECT_EQ(m.blocks, (std::vector<BlockId>{0, 1, 2}));
    ASSERT_TRUE(kv.allocate(2, m, 13));
    EXPECT_EQ(std::vector<BlockId>(kv.blockTable(2).begin(), kv.blockTable(2).end()), (std::vector<BlockId>{0, 1, 2, 3}));
    EXPECT_EQ(kv.cachedBlocks(), 0);
    EXPECT_EQ(kv.usedBlocks(), 4);
    const KvStatistics s = kv.statistics();
    EXPECT_EQ(s.prefixHits, 5);
    expectValid(kv);
}

TEST(KVCacheManager, DifferentPrefixMisses) {
    KVCacheManager kv({8, 4, true});
    auto a = iota(9);
    ASSERT_TRUE(kv.allocate(1, {}, 9));
    kv.commitComputed(1, a, 9);
    auto b = a;
    b[1] = 99;  // first block differs: nothing after it may match either
    EXPECT_TRUE(kv.findCachedPrefix(b).blocks.empty());
    auto c = a;
    c[5] = 99;  // second block differs
    EXPECT_EQ(kv.findCachedPrefix(c).blocks, (std::vector<BlockId>{0}));
}

TEST(KVCacheManager, SharedBlocksAreReferenceCounted) {
    KVCacheManager kv({8, 4, true});
    auto p = iota(9);
    ASSERT_TRUE(kv.allocate(1, {}, 9));
    kv.commitComputed(1, p, 9);
    PrefixMatch m = kv.findCachedPrefix(p);
    ASSERT_EQ(m.blocks.size(), 2u);
    ASSERT_TRUE(kv.allocate(2, m, 9));
    auto views = kv.blockViews();
    EXPECT_EQ(views[0].refCount, 2);
    EXPECT_EQ(views[1].refCount, 2);
    EXPECT_EQ(kv.usedBlocks(), 4);  // 3 of seq 1 + 1 fresh of seq 2
    kv.free(1);
    EXPECT_EQ(kv.blockViews()[0].refCount, 1);
    EXPECT_EQ(kv.usedBlocks(), 3);
    kv.free(2);
    EXPECT_EQ(kv.usedBlocks(), 0);
    expectValid(kv);
}

TEST(KVCacheManager, EvictsLeastRecentlyUsedCachedBlocksFirst) {
    KVCacheManager kv({4, 2, true});
    auto a = iota(5, 100);  // 2 full blocks + 1
    ASSERT_TRUE(kv.allocate(1, {}, 5));   // blocks 0,1,2
    kv.commitComputed(1, a, 5);
    kv.free(1);                           // list: 3, 2, 1, 0 ; cached: 0, 1
    EXPECT_EQ(kv.evictionOrder(), (std::vector<BlockId>{3, 2, 1, 0}));
    ASSERT_TRUE(kv.allocate(2, {}, 6));   // takes 3, 2, 1 -> evicts cached block 1
    EXPECT_EQ(kv.statistics().evictions, 1);
    EXPECT_EQ(kv.cachedBlocks(), 1);
    // Block 0 (the shallowest prefix block) survived.
    EXPECT_EQ(kv.findCachedPrefix(a).blocks, (std::vector<BlockId>{0}));
    expectValid(kv);
}

TEST(KVCacheManager, RefusesWhenShortWithoutSideEffects) {
    KVCacheManager kv({4, 4, true});
    ASSERT_TRUE(kv.allocate(1, {}, 12));
    EXPECT_FALSE(kv.allocate(2, {}, 8));
    EXPECT_FALSE(kv.hasSequence(2));
    EXPECT_FALSE(kv.appendSlots(1, 20));
    EXPECT_EQ(kv.blockTable(1).size(), 3u);
    EXPECT_TRUE(kv.appendSlots(1, 16));
    EXPECT_EQ(kv.availableBlocks(), 0);
    expectValid(kv);
}

TEST(KVCacheManager, DisablingPrefixCachingDropsCachedContent) {
    KVCacheManager kv({8, 4, true});
    auto p = iota(9);
    ASSERT_TRUE(kv.allocate(1, {}, 9));
    kv.commitComputed(1, p, 9);
    kv.free(1);
    EXPECT_EQ(kv.cachedBlocks(), 2);
    kv.setPrefixCaching(false);
    EXPECT_EQ(kv.cachedBlocks(), 0);
    EXPECT_TRUE(kv.findCachedPrefix(p).blocks.empty());
    expectValid(kv);
}

TEST(KVCacheManager, SlidingWindowReleasesBlocksEveryLayerStoppedReading) {
    // Window 6, blocks of 4: position p reads (p - 6, p].
    KVCacheManager kv({8, 4, true, 6});
    const auto tokens = iota(20);
    ASSERT_TRUE(kv.allocate(1, {}, 12));  // 3 blocks: positions 0..11
    kv.commitComputed(1, tokens, 12);
    // Next position 8 reads 3..8: block 0 (0..3) still holds position 3.
    EXPECT_EQ(kv.releaseOutsideWindow(1, 8), 0);
    // Next position 9 reads 4..9: block 0 is dead.
    EXPECT_EQ(kv.releaseOutsideWindow(1, 9), 1);
    EXPECT_EQ(kv.blockTable(1)[0], KVCacheManager::kReleasedBlock);
    EXPECT_EQ(kv.heldBlocks(1), 2);
    EXPECT_EQ(kv.usedBlocks(), 2);
    EXPECT_EQ(kv.cachedBlocks(), 1);  // a full, hashed block stays reusable as a prefix
    EXPECT_EQ(kv.releaseOutsideWindow(1, 9), 0);  // idempotent
    expectValid(kv);
    // Growth keeps indices by position; the table still has an entry per block.
    ASSERT_TRUE(kv.appendSlots(1, 20));
    EXPECT_EQ(kv.blockTable(1).size(), 5u);
    kv.commitComputed(1, tokens, 20);
    EXPECT_EQ(kv.releaseOutsideWindow(1, 20), 2);  // reads 15..20: blocks 1, 2 die too (0 went before)
    EXPECT_EQ(kv.heldBlocks(1), 2);
    expectValid(kv);
    kv.free(1);
    EXPECT_EQ(kv.usedBlocks(), 0);
    expectValid(kv);
}

TEST(KVCacheManager, NoWindowKeepsEveryBlock) {
    // Models with a global-attention layer (window 0 here) read every position: nothing goes.
    KVCacheManager kv({8, 4, true});
    ASSERT_TRUE(kv.allocate(1, {}, 20));
    EXPECT_EQ(kv.releaseOutsideWindow(1, 20), 0);
    EXPECT_EQ(kv.heldBlocks(1), 5);
    expectValid(kv);
}
