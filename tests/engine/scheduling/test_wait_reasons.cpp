// Every queued request gets its true waiting reason: each situation the admission rules know
// is built and the reason (with its numbers) asserted, per queue position.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/core/wait_description.h"
#include "engine/model/simulated_executor.h"
#include "engine/runtime/engine.h"
#include "engine/scheduling/batch_manager.h"
#include "engine/scheduling/continuous_batch_scheduler.h"

using namespace batchscope::engine;
using namespace std::chrono_literals;

namespace {

struct Bench {
    RequestQueue queue;
    KVCacheManager kv;
    BatchManager batch;
    RequestId nextId = 1;
    Bench(std::int32_t blocks, BatchConstraints c, QueuePolicy policy = QueuePolicy::Fcfs)
        : queue(RequestQueueConfig{64, 0, policy, 0ms}), kv({blocks, 4, true}), batch(queue, kv, c) {}

    SequencePtr add(int promptTokens, Priority p = Priority::Normal) {
        auto s = std::make_shared<Sequence>();
        s->id = nextId++;
        s->arrivalOrder = s->id;
        s->priority = p;
        s->arrival = SteadyClock::now() - 1s;
        for (int i = 0; i < promptTokens; ++i) s->tokens.push_back(TokenId(s->id * 1000 + i));
        s->promptLength = promptTokens;
        s->maxLength = 10000;
        s->options.maxTokens = 100;
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
        return out;
    }
    /// The reason of each queued request, in queue order.
    std::vector<std::pair<WaitReason, WaitDetail>> reasons(bool paused = false) {
        std::vector<std::pair<WaitReason, WaitDetail>> out;
        std::int32_t position = 0;
        for (const auto& seq : queue.ordered(SteadyClock::now()))
            out.push_back(batch.queuedWait(*seq, position++, paused));
        return out;
    }
};

}  // namespace

TEST(WaitReasons, MaxBatchSizeHoldsForEveryQueuedRequestEvenUnderFcfs) {
    BatchConstraints c;
    c.maxBatchSize = 2;
    Bench b(64, c);
    for (int i = 0; i < 5; ++i) b.add(3);
    b.step();
    const auto r = b.reasons();
    ASSERT_EQ(r.size(), 3u);
    for (const auto& [reason, detail] : r) {
        EXPECT_EQ(reason, WaitReason::BatchFull);   // not "lower priority": priorities are equal
        EXPECT_EQ(detail.have, 2);
        EXPECT_EQ(detail.limit, 2);
    }
    EXPECT_EQ(describeWait(r[0].first, r[0].second), "max batch size reached (2 of 2 running)");
}

TEST(WaitReasons, KvMemoryForTheHeadAndBehindNForTheRest) {
    BatchConstraints c;
    Bench b(6, c);                 // 6 blocks of 4 tokens
    auto a = b.add(7);             // 2 blocks each: the pool is full after three
    b.add(7);
    b.add(7);
    auto d = b.add(11);            // needs 3 blocks
    b.add(3);
    b.add(3);
    b.step();
    auto r = b.reasons();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].first, WaitReason::NoKvBlocks);
    EXPECT_EQ(r[0].second.kvBlocksNeeded, 3);
    EXPECT_EQ(r[0].second.kvBlocksFree, 0);
    EXPECT_EQ(r[0].second.kvBlocksReclaimable, 0);
    EXPECT_EQ(r[1].first, WaitReason::BehindRequests);
    EXPECT_EQ(r[1].second.ahead, 1);
    EXPECT_EQ(r[2].first, WaitReason::BehindRequests);
    EXPECT_EQ(r[2].second.ahead, 2);
    EXPECT_EQ(describeWait(r[2].first, r[2].second), "behind 2 requests that go first");
    // a leaves: its full block stays in the prefix cache (reclaimable), its partial one is free.
    b.batch.removeRunning(a->id);
    b.step();
    r = b.reasons();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].first, WaitReason::NoKvBlocks);
    EXPECT_EQ(r[0].second.kvBlocksNeeded, 3);
    EXPECT_EQ(r[0].second.kvBlocksFree, 1);
    EXPECT_EQ(r[0].second.kvBlocksReclaimable, 1);
    EXPECT_EQ(describeWait(r[0].first, r[0].second),
              "KV memory: needs 3 blocks, 1 free, 1 reclaimable from the prefix cache");
    EXPECT_EQ(d->state, RequestState::Queued);
}

TEST(WaitReasons, TokenBudgetOfTheStepUsedUp) {
    BatchConstraints c;
    c.tokenBudget = 8;
    Bench b(64, c);
    b.add(20);                     // its first prefill chunk takes the whole budget
    b.add(3);
    b.add(3);
    b.step();
    const auto r = b.reasons();
    ASSERT_EQ(r.size(), 2u);
    for (const auto& [reason, detail] : r) {
        EXPECT_EQ(reason, WaitReason::TokenBudget);
        EXPECT_EQ(detail.have, 8);
        EXPECT_EQ(detail.limit, 8);
    }
}

TEST(WaitReasons, WaitingForTheMinimumBatch) {
    BatchConstraints c;
    c.minBatchSize = 3;
    c.minBatchWait = 1h;
    Bench b(64, c);
    b.add(3);
    b.add(3);
    EXPECT_TRUE(b.step().empty());
    const auto r = b.reasons();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].first, WaitReason::WaitingForBatch);
    EXPECT_EQ(r[1].second.have, 2);
    EXPECT_EQ(r[1].second.limit, 3);
}

TEST(WaitReasons, PreemptedAndWaitingToResume) {
    BatchConstraints c;
    c.tokenBudget = 64;
    Bench b(6, c);
    b.add(7, Priority::High);
    b.add(7, Priority::Low);
    auto victim = b.add(7, Priority::Low);
    auto waiting = b.add(2, Priority::Low);
    b.step();
    b.step();
    const auto out = b.step();     // a decode needs a third block: the latest low one goes
    ASSERT_EQ(out.preempted.size(), 1u);
    ASSERT_EQ(out.preempted[0], victim);
    const auto ordered = b.queue.ordered(SteadyClock::now());
    ASSERT_EQ(ordered.size(), 2u);
    EXPECT_EQ(b.batch.queuedWait(*victim, 0, false).first, WaitReason::Preempted);
    // The step that preempted admits nothing: memory is short for the others too.
    EXPECT_EQ(b.batch.lastAdmissionBlock().reason, WaitReason::NoKvBlocks);
    EXPECT_EQ(b.batch.queuedWait(*waiting, 1, false).first, WaitReason::BehindRequests);
}

TEST(WaitReasons, PausedOverridesAndReasonsNeverGoStale) {
    BatchConstraints c;
    c.maxBatchSize = 1;
    Bench b(64, c);
    auto first = b.add(3);
    auto second = b.add(3);
    b.step();
    EXPECT_EQ(b.reasons()[0].first, WaitReason::BatchFull);
    EXPECT_EQ(b.reasons(/*paused=*/true)[0].first, WaitReason::Paused);
    b.batch.removeRunning(first->id);
    b.step();                       // second admitted, nothing blocked any more
    EXPECT_TRUE(b.queue.empty());
    EXPECT_EQ(b.batch.lastAdmissionBlock().reason, WaitReason::None);
    EXPECT_EQ(b.batch.queuedWait(*second, 0, false).first, WaitReason::None);
    auto third = b.add(3);          // queued behind a full batch again
    b.step();
    EXPECT_EQ(b.batch.queuedWait(*third, 0, false).first, WaitReason::BatchFull);
}

TEST(WaitReasons, SnapshotListsABoundedPrefixOfALongQueueWithReasons) {
    EngineConfig config;
    config.settings.paused = true;
    config.queueCapacity = 20000;
    SimulatedExecutorConfig cost;
    auto engine = Engine::create(config, std::make_unique<SimulatedExecutor>(cost));
    ASSERT_TRUE(engine);
    for (int i = 0; i < 10000; ++i)
        ASSERT_TRUE((*engine)->submit("q" + std::to_string(i), GenerationOptions{}, {}));
    const SchedulerSnapshot s = (*engine)->snapshot();
    EXPECT_EQ(s.queueDepth, 10000);
    std::int32_t listed = 0;
    for (const auto& r : s.requests) {
        if (r.state != RequestState::Queued) continue;
        ++listed;
        EXPECT_EQ(r.waitReason, WaitReason::Paused);
    }
    EXPECT_EQ(listed, SchedulerConfiguration{}.snapshotQueued);
    const auto published = (*engine)->latestSnapshot();   // the loop is not running: built here
    ASSERT_TRUE(published);
    EXPECT_EQ(published->queueDepth, 10000);
}

TEST(WaitReasons, SentencesForEveryReason) {
    EXPECT_EQ(describeWait(WaitReason::None, {}), "");
    EXPECT_EQ(describeWait(WaitReason::BehindRequests, WaitDetail{.ahead = 1}), "behind 1 request that goes first");
    EXPECT_EQ(describeWait(WaitReason::TokenBudget, WaitDetail{.have = 512, .limit = 512}),
              "token budget of the step used up (512 of 512 tokens)");
    EXPECT_EQ(describeWait(WaitReason::TokenBudget, {}), "token budget of the step used up");
    EXPECT_EQ(describeWait(WaitReason::WaitingForBatch, WaitDetail{.have = 1, .limit = 4}),
              "waiting for the minimum batch (1 of 4 queued)");
    EXPECT_EQ(describeWait(WaitReason::Preempted, {}), "preempted, waiting to resume");
    EXPECT_EQ(describeWait(WaitReason::Paused, {}), "scheduler paused");
    EXPECT_EQ(describeWait(WaitReason::NoKvBlocks, {}), "KV memory: no free blocks");
    EXPECT_EQ(waitReasonName(WaitReason::BehindRequests), "behind_requests");
    EXPECT_EQ(waitReasonName(WaitReason::Preempted), "preempted");
}

TEST(WaitReasons, OrderedPrefixMatchesTheFullOrder) {
    BatchConstraints c;
    Bench b(64, c, QueuePolicy::Priority);
    const Priority mix[] = {Priority::Low, Priority::High, Priority::Normal, Priority::High, Priority::Critical,
                            Priority::Low, Priority::Normal};
    for (Priority p : mix) b.add(3, p);
    const auto now = SteadyClock::now();
    const auto all = b.queue.ordered(now);
    for (std::size_t limit : {0u, 1u, 3u, 7u, 20u}) {
        const auto prefix = b.queue.orderedPrefix(now, limit);
        ASSERT_EQ(prefix.size(), std::min<std::size_t>(limit, all.size()));
        for (std::size_t i = 0; i < prefix.size(); ++i) EXPECT_EQ(prefix[i], all[i]) << limit << " " << i;
    }
}
