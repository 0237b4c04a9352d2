// Randomised soak: 10,000 requests with random lengths, priorities, cancellations and injected
// step failures. Every future completes, the KV invariants hold after every step, no block
// leaks. Also the shutdown guarantee: stop() finishes every request as cancelled.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <atomic>
#include <random>

#include "engine/model/simulated_executor.h"
#include "engine/scheduling/scheduler_client.h"

using namespace batchscope::engine;

namespace {
/// Throws on a seeded fraction of steps.
class FlakyExecutor final : public ModelExecutor {
public:
    FlakyExecutor(ModelExecutor& inner, double p) : m_inner(inner), m_p(p) {}
    std::size_t kvBytesPerBlock(std::int32_t bs) const override { return m_inner.kvBytesPerBlock(bs); }
    void configureKvCache(std::int32_t n, std::int32_t bs) override { m_inner.configureKvCache(n, bs); }
    StepResult execute(const ModelBatch& b) override {
        if (std::uniform_real_distribution<double>(0, 1)(m_rng) < m_p) throw std::runtime_error("injected failure");
        return m_inner.execute(b);
    }
    const Tokenizer& tokenizer() const override { return m_inner.tokenizer(); }
    ModelInfo modelInfo() const override { return m_inner.modelInfo(); }
    std::int32_t maxContextLength() const override { return m_inner.maxContextLength(); }

private:
    ModelExecutor& m_inner;
    double m_p;
    std::mt19937 m_rng{3};
};

struct Stack {
    SimulatedExecutor sim;
    FlakyExecutor flaky;
    RequestQueue queue{RequestQueueConfig{20000}};
    KVCacheManager kv;
    CapacityManager capacity;
    CompletionDetector completion{CompletionConfiguration{}, sim.tokenizer()};
    BatchManager batch;
    SchedulerMetricsCollector metrics;
    ContinuousBatchScheduler scheduler;
    SchedulerClient client;
    Stack(double failure, BatchConstraints c, SimulatedExecutorConfig sc = {}, std::int32_t blocks = 300)
        : sim(sc), flaky(sim, failure), kv({blocks, 16, true}), batch(queue, kv, c), scheduler(queue, batch, completion, capacity, flaky, metrics), client(scheduler, sim.tokenizer()) {}
};
}  // namespace

TEST(SchedulerSoak, TenThousandRandomRequests) {
    BatchConstraints c;
    c.maxBatchSize = 64;
    c.tokenBudget = 256;
    c.maxSequenceLength = 4096;
    SimulatedExecutorConfig sc;
    sc.eosProbability = 0.05;
    Stack st(0.02, c, sc);  // 300 blocks of 16 tokens is tight on purpose: preemption happens
    std::atomic<int> invariantFailures{0};
    std::string firstFailure;
    st.scheduler.setStepObserver([&](const StepRecord&) {
        if (auto err = st.scheduler.checkInvariants()) {
            if (invariantFailures++ == 0) firstFailure = *err;
        }
    });
    std::mt19937 rng(11);
    std::vector<std::future<GenerationResult>> futures;
    // The first 2,000 are queued before the start, so the batch fills at once and the KV pool
    // (300 blocks of 16 tokens for up to 64 sequences of ~120 tokens) must preempt; the rest
    // arrive while it runs, with cancellations and priority changes mixed in.
    for (int i = 0; i < 10000; ++i) {
        if (i == 2000) st.scheduler.start();
        GenerationOptions o;
        o.maxTokens = 1 + int(rng() % 48);
        o.priority = static_cast<Priority>(rng() % 4);
        if (rng() % 10 == 0) o.stopStrings = {" the"};
        futures.push_back(st.client.generate(std::string(1 + rng() % 200, char('a' + rng() % 26)), o));
        if (i >= 2000 && rng() % 20 == 0) st.scheduler.cancel(RequestId(1 + rng() % std::uint32_t(i + 1)));
        if (i >= 2000 && rng() % 50 == 0) st.scheduler.setPriority(RequestId(1 + rng() % std::uint32_t(i + 1)), Priority::Critical);
    }
    int cancelled = 0, failed = 0, finished = 0;
    for (auto& f : futures) {
        const GenerationResult r = f.get();  // every future completes
        cancelled += r.finishReason == FinishReason::Cancelled;
        failed += r.finishReason == FinishReason::Error;
        finished += r.finishReason != FinishReason::Cancelled && r.finishReason != FinishReason::Error;
        if (r.finishReason == FinishReason::MaxTokens) {
            EXPECT_EQ(std::int32_t(r.tokens.size()), r.usage.completionTokens);
        }
    }
    st.scheduler.stop();
    EXPECT_EQ(invariantFailures.load(), 0) << firstFailure;
    EXPECT_EQ(cancelled + failed + finished, 10000);
    EXPECT_GT(cancelled, 0);
    EXPECT_GT(finished, 9000);
    EXPECT_GT(st.metrics.getErrorStatistics().failedSteps, 0);
    EXPECT_EQ(st.kv.usedBlocks(), 0);
    EXPECT_FALSE(st.kv.checkInvariants().has_value());
    EXPECT_GT(st.metrics.getBatchStatistics().preemptions, 0);
}

TEST(SchedulerSoak, StopCancelsEveryUnfinishedRequest) {
    BatchConstraints c;
    c.maxBatchSize = 4;
    c.maxSequenceLength = 1 << 20;
    SimulatedExecutorConfig sc;
    sc.stepOverheadUs = 1000;
    Stack st(0.0, c, sc, 4096);
    std::vector<std::future<GenerationResult>> futures;
    GenerationOptions o;
    o.maxTokens = 100000;
    o.ignoreEos = true;
    for (int i = 0; i < 50; ++i) futures.push_back(st.client.generate("long " + std::to_string(i), o));
    st.scheduler.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    st.scheduler.stop();
    for (auto& f : futures) EXPECT_EQ(f.get().finishReason, FinishReason::Cancelled);
    EXPECT_EQ(st.kv.usedBlocks(), 0);
}

TEST(SchedulerSoak, RejectsBadSubmissionsClearly) {
    BatchConstraints c;
    c.maxSequenceLength = 64;
    Stack st(0.0, c);
    GenerationOptions o;
    auto tooLong = st.client.generateStreaming(std::string(100, 'x'), o, {});
    ASSERT_FALSE(tooLong.ok());
    EXPECT_EQ(tooLong.error().code, ErrorCode::PromptTooLong);
    EXPECT_NE(tooLong.error().message.find("101 tokens"), std::string::npos) << tooLong.error().message;
    o.maxTokens = -3;
    auto negative = st.scheduler.submit({1, 2}, "x", o, {});
    ASSERT_FALSE(negative.ok());
    EXPECT_EQ(negative.error().code, ErrorCode::InvalidArgument);
    auto empty = st.scheduler.submit({}, "", GenerationOptions{}, {});
    EXPECT_EQ(empty.error().code, ErrorCode::InvalidArgument);
}
