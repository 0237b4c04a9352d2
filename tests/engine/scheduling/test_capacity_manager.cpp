// CapacityManager: utilisation arithmetic, the limit predicates, sampling from another thread
// while the engine thread updates, and the BatchManager keeping to each of its three limits.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "engine/scheduling/batch_manager.h"
#include "engine/scheduling/capacity_manager.h"

using namespace batchscope::engine;
using namespace std::chrono_literals;

TEST(CapacityManager, StartsEmpty) {
    const CapacityManager c;
    const Utilization u = c.utilization();
    EXPECT_EQ(u.memoryUtilization, 0.0);
    EXPECT_EQ(u.sequenceUtilization, 0.0);
    EXPECT_EQ(u.tokenUtilization, 0.0);
    EXPECT_EQ(c.constraints().maxMemoryBytes, CapacityConstraints::Default().maxMemoryBytes);
}

TEST(CapacityManager, UtilisationIsPercentOfEachLimit) {
    CapacityManager c({1000, 8, 200});
    c.update(250, 2, 50);
    Utilization u = c.utilization();
    EXPECT_DOUBLE_EQ(u.memoryUtilization, 25.0);
    EXPECT_DOUBLE_EQ(u.sequenceUtilization, 25.0);
    EXPECT_DOUBLE_EQ(u.tokenUtilization, 25.0);
    c.update(1000, 8, 200);  // exactly at the limits
    u = c.GetUtilization();  // the spec's name reads the same values
    EXPECT_DOUBLE_EQ(u.memoryUtilization, 100.0);
    EXPECT_DOUBLE_EQ(u.sequenceUtilization, 100.0);
    EXPECT_DOUBLE_EQ(u.tokenUtilization, 100.0);
    c.update(0, 0, 0);  // the last update replaces, it does not accumulate
    EXPECT_EQ(c.utilization().memoryUtilization, 0.0);
}

TEST(CapacityManager, OverTheLimitShowsAboveHundredAndNegativeClampsToZero) {
    CapacityManager c({100, 4, 10});
    c.update(150, 6, 11);  // not clamped: a limit broken elsewhere must be visible
    Utilization u = c.utilization();
    EXPECT_DOUBLE_EQ(u.memoryUtilization, 150.0);
    EXPECT_DOUBLE_EQ(u.sequenceUtilization, 150.0);
    EXPECT_DOUBLE_EQ(u.tokenUtilization, 110.0);
    c.update(-5, -1, -1);
    u = c.utilization();
    EXPECT_EQ(u.memoryUtilization, 0.0);
    EXPECT_EQ(u.sequenceUtilization, 0.0);
    EXPECT_EQ(u.tokenUtilization, 0.0);
}

TEST(CapacityManager, ZeroLimitsGiveZeroNotADivisionByZero) {
    CapacityManager c({0, 0, 0});
    c.update(10, 1, 1);
    const Utilization u = c.utilization();
    EXPECT_EQ(u.memoryUtilization, 0.0);
    EXPECT_EQ(u.sequenceUtilization, 0.0);
    EXPECT_EQ(u.tokenUtilization, 0.0);
}

TEST(CapacityManager, LimitPredicatesIncludeTheLimit) {
    const CapacityManager c({1 << 20, 3, 64});
    EXPECT_TRUE(c.canRunSequences(0));
    EXPECT_TRUE(c.canRunSequences(3));
    EXPECT_FALSE(c.canRunSequences(4));
    EXPECT_EQ(c.tokenLimit(), 64);
}

// The engine thread updates while another thread samples: each value read is one that was
// written (never torn or invented). TSan checks the accesses in the TSan stage of .ci/run.
TEST(CapacityManager, SamplingFromAnotherThreadSeesWrittenValues) {
    CapacityManager c({1000, 10, 100});
    std::atomic<bool> done{false};
    std::thread engine([&] {
        for (int i = 0; i < 20000; ++i) {
            if (i % 2) c.update(500, 5, 50);
            else c.update(1000, 10, 100);
        }
        done = true;
    });
    int samples = 0, bad = 0;
    while (!done.load() || samples == 0) {
        const Utilization u = c.utilization();
        auto ok = [](double v) { return v == 0.0 || v == 50.0 || v == 100.0; };
        bad += ok(u.memoryUtilization) && ok(u.sequenceUtilization) && ok(u.tokenUtilization) ? 0 : 1;
        ++samples;
    }
    engine.join();
    EXPECT_EQ(bad, 0) << "of " << samples << " samples";
    EXPECT_DOUBLE_EQ(c.utilization().memoryUtilization, 50.0);  // the last update (i = 19999)
}

namespace {
/// A BatchManager over a small KV pool whose only binding limits are the CapacityManager's.
struct Bench {
    RequestQueue queue{RequestQueueConfig{64, 0, QueuePolicy::Fcfs, 0ms}};
    KVCacheManager kv{KVCacheConfig{256, 4, false}};
    CapacityManager capacity;
    BatchManager batch;
    RequestId nextId = 1;
    Bench(const CapacityConstraints& limits, std::int64_t bytesPerBlock)
        : capacity(limits), batch(queue, kv, [] {
              BatchConstraints c;
              c.maxBatchSize = 64;
              c.tokenBudget = 4096;
              c.minBatchSize = 1;
              return c;
          }()) {
        batch.setCapacityManager(&capacity);
        batch.setKvBytesPerBlock(bytesPerBlock);
    }
    void add(int promptTokens) {
        auto s = std::make_shared<Sequence>();
        s->id = nextId++;
        s->arrivalOrder = s->id;
        s->arrival = SteadyClock::now() - 1s;
        for (int i = 0; i < promptTokens; ++i) s->tokens.push_back(TokenId(s->id * 1000 + i));
        s->promptLength = promptTokens;
        s->maxLength = 10000;
        s->options.maxTokens = 100;
        ASSERT_TRUE(queue.push(s).ok());
    }
};
}  // namespace

TEST(CapacityManager, BatchManagerRunsNoMoreSequencesThanMaxSequences) {
    Bench b({1LL << 30, 3, 8192}, 1);
    for (int i = 0; i < 6; ++i) b.add(4);
    const ScheduleOutput out = b.batch.schedule(SteadyClock::now());
    EXPECT_EQ(out.scheduled.size(), 3u);
    EXPECT_EQ(b.batch.running().size(), 3u);
    EXPECT_EQ(b.queue.size(), 3);
}

TEST(CapacityManager, BatchManagerKeepsAStepWithinMaxBatchedTokens) {
    Bench b({1LL << 30, 256, 10}, 1);
    for (int i = 0; i < 4; ++i) b.add(8);
    const ScheduleOutput out = b.batch.schedule(SteadyClock::now());
    EXPECT_LE(out.numTokens, 10);
    EXPECT_GT(out.numTokens, 0);
}

TEST(CapacityManager, BatchManagerHoldsNoMoreKvBytesThanMaxMemoryBytes) {
    // 100 bytes per 4-token block, 1,000 bytes allowed: 10 blocks of the pool's 256.
    Bench b({1000, 256, 8192}, 100);
    for (int i = 0; i < 8; ++i) b.add(8);  // 2 blocks each: 16 wanted
    const ScheduleOutput out = b.batch.schedule(SteadyClock::now());
    EXPECT_FALSE(out.scheduled.empty());
    EXPECT_LE(b.kv.usedBlocks(), 10);
    EXPECT_LE(b.batch.usedMemoryBytes(), 1000);
    b.capacity.update(b.batch.usedMemoryBytes(), std::int32_t(b.batch.running().size()), out.numTokens);
    EXPECT_LE(b.capacity.utilization().memoryUtilization, 100.0);
    EXPECT_GE(b.capacity.utilization().memoryUtilization, 80.0);  // the limit, not the pool, bound it
}
