// Chunked prefill within the token budget, decodes first, preemption and resume, Reserve.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/scheduling/batch_manager.h"

using namespace batchscope::engine;
using namespace std::chrono_literals;

namespace {
struct Bench {
    RequestQueue queue{RequestQueueConfig{64, 0, QueuePolicy::Priority, 0ms}};
    KVCacheManager kv;
    BatchManager batch;
    RequestId nextId = 1;
    Bench(std::int32_t blocks, BatchConstraints c) : kv({blocks, 4, true}), batch(queue, kv, c) {}

    SequencePtr add(int promptTokens, Priority p = Priority::Normal, int maxTokens = 100, TokenId base = 0) {
        auto s = std::make_shared<Sequence>();
        s->id = nextId++;
        s->arrivalOrder = s->id;
        s->priority = p;
        s->arrival = SteadyClock::now() - 1s;
        for (int i = 0; i < promptTokens; ++i) s->tokens.push_back(base + TokenId(s->id * 1000 + i));
        s->promptLength = promptTokens;
        s->maxLength = 10000;
        s->options.maxTokens = maxTokens;
        EXPECT_TRUE(queue.push(s).ok());
        return s;
    }
    /// Pretends the executor ran the step: advances computed tokens, samples token 7.
    ScheduleOutput step() {
        ScheduleOutput out = batch.schedule(SteadyClock::now());
        for (auto& s : out.scheduled) {
            s.seq->numComputed += s.numNewTokens;
            kv.commitComputed(s.seq->id, s.seq->tokens, s.seq->numComputed);
            if (s.seq->numComputed == std::int32_t(s.seq->tokens.size())) s.seq->tokens.push_back(7);
        }
        auto err = kv.checkInvariants();
        EXPECT_FALSE(err) << *err;
        return out;
    }
};
int tokensOf(const ScheduleOutput& out, RequestId id) {
    for (const auto& s : out.scheduled) if (s.seq->id == id) return s.numNewTokens;
    return 0;
}
}  // namespace

TEST(BatchManager, ChunksLongPromptsWithinTheTokenBudget) {
    BatchConstraints c;
    c.tokenBudget = 8;
    Bench b(64, c);
    auto longOne = b.add(20);
    auto out = b.step();
    EXPECT_EQ(tokensOf(out, longOne->id), 8);
    out = b.step();
    EXPECT_EQ(tokensOf(out, longOne->id), 8);
    out = b.step();
    EXPECT_EQ(tokensOf(out, longOne->id), 4);  // last chunk samples the first token
    EXPECT_EQ(longOne->generatedCount(), 1);
    out = b.step();
    EXPECT_EQ(tokensOf(out, longOne->id), 1);  // decoding
}

TEST(BatchManager, RunningDecodesAreNeverStalledByALongPrompt) {
    BatchConstraints c;
    c.tokenBudget = 6;
    Bench b(64, c);
    auto a = b.add(3);
    b.step();  // a prefilled, first token sampled
    auto big = b.add(40);
    for (int i = 0; i < 5; ++i) {
        auto out = b.step();
        EXPECT_EQ(tokensOf(out, a->id), 1) << "step " << i;
        EXPECT_EQ(tokensOf(out, big->id), 5) << "step " << i;
        EXPECT_LE(out.numTokens, 6);
    }
}

TEST(BatchManager, RespectsMaxBatchSizeAndReportsWhy) {
    BatchConstraints c;
    c.maxBatchSize = 2;
    Bench b(64, c);
    b.add(3);
    b.add(3);
    auto third = b.add(3);
    auto out = b.step();
    EXPECT_EQ(out.scheduled.size(), 2u);
    EXPECT_EQ(third->waitReason, WaitReason::BatchFull);
    EXPECT_EQ(b.queue.size(), 1);
}

TEST(BatchManager, PreemptsTheLowestPriorityLatestArrivalAndResumesIt) {
    BatchConstraints c;
    c.tokenBudget = 64;
    Bench b(6, c);  // 6 blocks of 4 tokens
    auto high = b.add(7, Priority::High);   // 2 blocks
    auto low1 = b.add(7, Priority::Low);    // 2 blocks
    auto low2 = b.add(7, Priority::Low);    // 2 blocks -> pool full
    b.step();  // all admitted: 6 blocks, 8 tokens each after sampling
    EXPECT_EQ(b.kv.availableBlocks(), 0);
    b.step();  // 9 tokens each: the next decode needs a third block
    auto out = b.step();
    ASSERT_EQ(out.preempted.size(), 1u);
    EXPECT_EQ(out.preempted[0]->id, low2->id);  // the latest arrival of the lowest priority
    EXPECT_EQ(tokensOf(out, high->id), 1);
    EXPECT_EQ(tokensOf(out, low1->id), 1);      // got the block low2 gave up
    EXPECT_EQ(out.scheduled.size(), 2u);        // nothing admitted in a step that preempted
    EXPECT_EQ(low2->state, RequestState::Preempted);
    EXPECT_EQ(low2->numComputed, 0);
    EXPECT_EQ(b.queue.size(), 1);
    // When high finishes, low2 comes back and recomputes prompt + generated tokens (minus
    // whatever full blocks survived in the prefix cache), then samples its third token.
    b.batch.removeRunning(high->id);
    out = b.step();
    const int recomputed = tokensOf(out, low2->id);
    EXPECT_GT(recomputed, 0);
    EXPECT_EQ(recomputed % 4, 1);  // whole cached blocks were skipped, never a partial one
    EXPECT_EQ(low2->numComputed, 9);
    EXPECT_EQ(low2->generatedCount(), 3);
}

TEST(BatchManager, ReservePolicyAdmitsOnlyWhatFitsEntirelyAndNeverPreempts) {
    BatchConstraints c;
    c.memoryPolicy = MemoryPolicy::Reserve;
    c.tokenBudget = 64;
    Bench b(6, c);
    auto a = b.add(4, Priority::Normal, 8);   // 12 tokens -> 3 blocks reserved
    auto d = b.add(4, Priority::Normal, 8);   // 3 more -> pool full
    auto e = b.add(4, Priority::Normal, 8);   // must wait
    auto out = b.step();
    EXPECT_EQ(out.scheduled.size(), 2u);
    EXPECT_EQ(e->waitReason, WaitReason::NoKvBlocks);
    EXPECT_EQ(b.kv.blockTable(a->id).size(), 3u);
    for (int i = 0; i < 7; ++i) {
        out = b.step();
        EXPECT_TRUE(out.preempted.empty());
    }
    EXPECT_EQ(a->generatedCount(), 8);
    (void)d;
}

TEST(BatchManager, PrefixCacheHitsSkipRecomputation) {
    BatchConstraints c;
    c.tokenBudget = 64;
    Bench b(32, c);
    auto first = b.add(13, Priority::Normal, 100, 0);
    b.step();
    b.batch.removeRunning(first->id);
    // Same 13 prompt tokens under a new id.
    auto again = std::make_shared<Sequence>();
    again->id = 99;
    again->arrivalOrder = 99;
    again->tokens.assign(first->tokens.begin(), first->tokens.begin() + 13);
    again->promptLength = 13;
    again->maxLength = 10000;
    again->options.maxTokens = 100;
    ASSERT_TRUE(b.queue.push(again).ok());
    auto out = b.step();
    EXPECT_EQ(again->cachedPromptTokens, 12);
    EXPECT_EQ(tokensOf(out, 99), 1);
    EXPECT_GT(b.kv.statistics().prefixHits, 0);
}

TEST(BatchManager, StaticBatchingWaitsForTheWholeBatch) {
    BatchConstraints c;
    c.staticBatching = true;
    c.maxBatchSize = 2;
    Bench b(64, c);
    auto a = b.add(2, Priority::Normal);
    auto d = b.add(2, Priority::Normal);
    auto e = b.add(2, Priority::Normal);
    b.step();
    b.batch.removeRunning(a->id);  // a finished, d still running
    auto out = b.step();
    EXPECT_EQ(tokensOf(out, e->id), 0);
    b.batch.removeRunning(d->id);
    out = b.step();
    EXPECT_EQ(tokensOf(out, e->id), 2);
}
