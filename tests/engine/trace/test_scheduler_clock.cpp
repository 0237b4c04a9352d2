// The scheduler reads time only through its clock: on a virtual clock, driven by runOnce(),
// timeouts, aging, minBatchWait and latencies follow virtual time and nothing sleeps.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/model/simulated_executor.h"
#include "engine/runtime/engine.h"
#include "engine/scheduling/continuous_batch_scheduler.h"
#include "engine/scheduling/scheduler_client.h"

using namespace batchscope::engine;
using namespace std::chrono_literals;

namespace {

/// Each step "takes" 10 ms of virtual time.
class TenMsExecutor final : public DelegatingExecutor {
public:
    TenMsExecutor(ModelExecutor& inner, VirtualClock& clock) : DelegatingExecutor(inner), m_clock(clock) {}
    StepResult execute(const ModelBatch& batch) override {
        m_clock.advance(10ms);
        return m_inner.execute(batch);
    }

private:
    VirtualClock& m_clock;
};

struct Driven {
    std::shared_ptr<VirtualClock> clock = std::make_shared<VirtualClock>();
    SimulatedExecutor sim{[] { SimulatedExecutorConfig c; c.eosProbability = 0; return c; }()};
    std::unique_ptr<Engine> engine;
    explicit Driven(EngineConfig config = {}) {
        config.clock = clock;
        config.numKvBlocks = 256;
        auto e = Engine::create(config, std::make_unique<TenMsExecutor>(sim, *clock));
        EXPECT_TRUE(e.ok());
        engine = std::move(e.value());
    }
    Result<RequestId> submit(const std::string& prompt, GenerationOptions o, std::vector<GenerationResult>& out) {
        RequestCallbacks cb;
        cb.onFinished = [&out](const GenerationResult& r) { out.push_back(r); };
        return engine->submit(prompt, o, cb);
    }
    void drain() {
        for (int i = 0; i < 10000 && engine->scheduler().runOnce(); ++i) {}
    }
};

}  // namespace

TEST(VirtualClock, MovesOnlyForwardAndOnlyWhenTold) {
    VirtualClock c;
    const auto t0 = c.now();
    EXPECT_EQ(c.now(), t0);
    c.advance(5ms);
    EXPECT_EQ(c.now() - t0, 5ms);
    c.set(t0);   // earlier: ignored
    EXPECT_EQ(c.now() - t0, 5ms);
    c.set(t0 + 1s);
    EXPECT_EQ(c.now() - t0, 1s);
    EXPECT_FALSE(c.isReal());
    EXPECT_TRUE(SteadySchedulerClock::shared()->isReal());
}

TEST(SchedulerClock, LatenciesAreMeasuredOnTheVirtualClock) {
    Driven d;
    std::vector<GenerationResult> done;
    GenerationOptions o;
    o.maxTokens = 4;
    o.ignoreEos = true;
    ASSERT_TRUE(d.submit("hello", o, done).ok());
    d.clock->advance(3ms);   // the request waited 3 ms before the first step
    d.drain();
    ASSERT_EQ(done.size(), 1u);
    // 4 steps of 10 ms: prefill (+ first token), then 3 decodes.
    EXPECT_DOUBLE_EQ(done[0].timings.queueMs, 3.0);
    EXPECT_DOUBLE_EQ(done[0].timings.timeToFirstTokenMs, 13.0);
    EXPECT_DOUBLE_EQ(done[0].timings.totalMs, 43.0);
    const auto stats = d.engine->metrics().getRequestStatistics();
    EXPECT_NEAR(stats.timeToFirstToken.p50, 13.0, 0.2);
}

TEST(SchedulerClock, TimeoutsFollowVirtualTimeWithoutSleeping) {
    Driven d;
    SchedulerSettings s = d.engine->settings();
    s.paused = true;
    d.engine->applySettings(s);
    std::vector<GenerationResult> done;
    GenerationOptions o;
    o.timeout = 100ms;
    ASSERT_TRUE(d.submit("late", o, done).ok());
    EXPECT_FALSE(d.engine->scheduler().runOnce());
    EXPECT_TRUE(done.empty());
    d.clock->advance(99ms);
    EXPECT_FALSE(d.engine->scheduler().runOnce());
    EXPECT_TRUE(done.empty());
    d.clock->advance(1ms);
    EXPECT_FALSE(d.engine->scheduler().runOnce());
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].finishReason, FinishReason::Timeout);
    EXPECT_DOUBLE_EQ(done[0].timings.totalMs, 100.0);
}

TEST(SchedulerClock, MinBatchWaitEndsOnVirtualTime) {
    EngineConfig c;
    c.minBatchSize = 2;   // BatchConstraints::minBatchWait is 5 ms
    Driven d(c);
    std::vector<GenerationResult> done;
    GenerationOptions o;
    o.maxTokens = 1;
    ASSERT_TRUE(d.submit("alone", o, done).ok());
    std::optional<TimePoint> wake;
    EXPECT_FALSE(d.engine->scheduler().runOnce(&wake));   // waiting for company
    ASSERT_TRUE(wake.has_value());
    EXPECT_EQ(*wake - d.clock->now(), 5ms);
    d.clock->set(*wake);
    EXPECT_TRUE(d.engine->scheduler().runOnce());
    ASSERT_EQ(done.size(), 1u);
    EXPECT_DOUBLE_EQ(done[0].timings.queueMs, 5.0);
}

TEST(SchedulerClock, AgingUsesVirtualTime) {
    EngineConfig c;
    c.settings.maxBatchSize = 1;
    c.settings.agingIntervalMs = 1000;
    Driven d(c);
    std::vector<GenerationResult> done;
    GenerationOptions low;
    low.maxTokens = 1;
    low.priority = Priority::Low;
    GenerationOptions high = low;
    high.priority = Priority::High;
    ASSERT_TRUE(d.submit("low", low, done).ok());
    // 2.5 s later the low request has aged two levels (Low -> High) and arrived first.
    d.clock->advance(2500ms);
    ASSERT_TRUE(d.submit("high", high, done).ok());
    d.drain();
    ASSERT_EQ(done.size(), 2u);
    EXPECT_EQ(done[0].id, 1u);
}

TEST(SchedulerClock, StepRecordsCarryContextLengths) {
    Driven d;
    std::vector<StepRecord> steps;
    d.engine->scheduler().setStepObserver([&](const StepRecord& s) { steps.push_back(s); });
    std::vector<GenerationResult> done;
    GenerationOptions o;
    o.maxTokens = 3;
    o.ignoreEos = true;
    ASSERT_TRUE(d.submit("abcdefg", o, done).ok());
    d.drain();
    ASSERT_EQ(steps.size(), 3u);
    ASSERT_EQ(steps[0].entries.size(), 1u);
    const std::int32_t prompt = steps[0].entries[0].prefillTokens;
    EXPECT_GE(prompt, 7);
    EXPECT_EQ(steps[0].entries[0].contextTokens, prompt);
    EXPECT_EQ(steps[1].entries[0].decodeTokens, 1);
    EXPECT_EQ(steps[1].entries[0].contextTokens, prompt + 1);
    EXPECT_EQ(steps[2].entries[0].contextTokens, prompt + 2);
    EXPECT_DOUBLE_EQ(steps[1].durationMs, 10.0);
}
