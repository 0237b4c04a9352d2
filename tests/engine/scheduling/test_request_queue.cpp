// Queue order: priority then FIFO, aging, capacity, remove and reprioritise.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/scheduling/request_queue.h"

using namespace batchscope::engine;
using namespace std::chrono_literals;

namespace {
SequencePtr makeSeq(RequestId id, Priority p, TimePoint arrival, int tokens = 4) {
    auto s = std::make_shared<Sequence>();
    s->id = id;
    s->arrivalOrder = id;
    s->priority = p;
    s->arrival = arrival;
    s->tokens.assign(std::size_t(tokens), 1);
    s->promptLength = tokens;
    return s;
}
std::vector<RequestId> popAll(RequestQueue& q, TimePoint now) {
    std::vector<RequestId> ids;
    while (auto s = q.pop(now)) ids.push_back(s->id);
    return ids;
}
}  // namespace

TEST(RequestQueue, PriorityThenFifo) {
    RequestQueueConfig c;
    c.agingInterval = 0ms;
    RequestQueue q(c);
    const TimePoint t0 = SteadyClock::now();
    ASSERT_TRUE(q.push(makeSeq(1, Priority::Low, t0)).ok());
    ASSERT_TRUE(q.push(makeSeq(2, Priority::High, t0)).ok());
    ASSERT_TRUE(q.push(makeSeq(3, Priority::Normal, t0)).ok());
    ASSERT_TRUE(q.push(makeSeq(4, Priority::High, t0)).ok());
    ASSERT_TRUE(q.push(makeSeq(5, Priority::Critical, t0)).ok());
    EXPECT_EQ(popAll(q, t0), (std::vector<RequestId>{5, 2, 4, 3, 1}));
}

TEST(RequestQueue, FcfsIgnoresPriority) {
    RequestQueueConfig c;
    c.policy = QueuePolicy::Fcfs;
    RequestQueue q(c);
    const TimePoint t0 = SteadyClock::now();
    q.push(makeSeq(1, Priority::Low, t0));
    q.push(makeSeq(2, Priority::Critical, t0));
    q.push(makeSeq(3, Priority::Normal, t0));
    EXPECT_EQ(popAll(q, t0), (std::vector<RequestId>{1, 2, 3}));
}

TEST(RequestQueue, AgingLetsOldLowPriorityRequestsOvertake) {
    RequestQueueConfig c;
    c.agingInterval = 100ms;
    RequestQueue q(c);
    const TimePoint t0 = SteadyClock::now();
    q.push(makeSeq(1, Priority::Low, t0));                 // waited 250 ms at "now": Low + 2 = High
    q.push(makeSeq(2, Priority::Normal, t0 + 240ms));      // waited 10 ms: Normal
    q.push(makeSeq(3, Priority::High, t0 + 245ms));        // High, but arrived later than 1
    const TimePoint now = t0 + 250ms;
    EXPECT_EQ(q.effectivePriority(*q.peek(now), now), Priority::High);
    EXPECT_EQ(popAll(q, now), (std::vector<RequestId>{1, 3, 2}));
}

TEST(RequestQueue, StrictWithoutAging) {
    RequestQueueConfig c;
    c.agingInterval = 0ms;
    RequestQueue q(c);
    const TimePoint t0 = SteadyClock::now();
    q.push(makeSeq(1, Priority::Low, t0 - 10min));
    q.push(makeSeq(2, Priority::Normal, t0));
    EXPECT_EQ(popAll(q, t0), (std::vector<RequestId>{2, 1}));
}

TEST(RequestQueue, RejectsWhenFullWithQueueFull) {
    RequestQueue q(2);
    const TimePoint t0 = SteadyClock::now();
    EXPECT_TRUE(q.push(makeSeq(1, Priority::Normal, t0)).ok());
    EXPECT_TRUE(q.push(makeSeq(2, Priority::Normal, t0)).ok());
    Status s = q.push(makeSeq(3, Priority::Normal, t0));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::QueueFull);
    EXPECT_NE(s.error().message.find("full"), std::string::npos);
    EXPECT_EQ(q.size(), 2);
}

TEST(RequestQueue, BoundsQueuedTokens) {
    RequestQueueConfig c;
    c.maxQueuedTokens = 10;
    RequestQueue q(c);
    const TimePoint t0 = SteadyClock::now();
    EXPECT_TRUE(q.push(makeSeq(1, Priority::Normal, t0, 6)).ok());
    EXPECT_EQ(q.push(makeSeq(2, Priority::Normal, t0, 6)).error().code, ErrorCode::QueueFull);
    EXPECT_TRUE(q.push(makeSeq(3, Priority::Normal, t0, 4)).ok());
    EXPECT_EQ(q.queuedTokens(), 10);
}

TEST(RequestQueue, RemoveAndReprioritise) {
    RequestQueueConfig c;
    c.agingInterval = 0ms;
    RequestQueue q(c);
    const TimePoint t0 = SteadyClock::now();
    for (RequestId i = 1; i <= 4; ++i) q.push(makeSeq(i, Priority::Normal, t0));
    EXPECT_EQ(q.remove(2)->id, 2u);
    EXPECT_EQ(q.remove(2), nullptr);
    EXPECT_TRUE(q.setPriority(4, Priority::High));
    EXPECT_FALSE(q.setPriority(99, Priority::High));
    EXPECT_EQ(popAll(q, t0), (std::vector<RequestId>{4, 1, 3}));
}

TEST(RequestQueue, PreemptedGoBackToTheHeadOfTheirPriority) {
    RequestQueueConfig c;
    c.agingInterval = 0ms;
    RequestQueue q(c);
    const TimePoint t0 = SteadyClock::now();
    q.push(makeSeq(5, Priority::Normal, t0));
    q.push(makeSeq(6, Priority::Normal, t0));
    q.pushFront(makeSeq(2, Priority::Normal, t0));  // earlier arrival: back at the front
    EXPECT_EQ(q.ordered(t0).front()->id, 2u);
    EXPECT_EQ(popAll(q, t0), (std::vector<RequestId>{2, 5, 6}));
}
