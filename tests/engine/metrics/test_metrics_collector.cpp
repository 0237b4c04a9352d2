// SchedulerMetricsCollector: histogram accuracy through the collector, constant memory,
// windows on an injected clock (no sleeps), exact count/sum/min/max, throughput, reset.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "engine/metrics/percentile.h"
#include "engine/metrics/scheduler_metrics_collector.h"

using namespace batchscope::engine;
using namespace std::chrono_literals;
using Clock = SchedulerMetricsCollector::Clock;

namespace {

struct FakeClock {
    Clock::time_point now{100s};
    SchedulerMetricsCollector::ClockFunction fn() { return [this] { return now; }; }
};

GenerationResult finished(double queueMs, double ttftMs, double totalMs, int tokens,
                          FinishReason reason = FinishReason::MaxLength) {
    GenerationResult r;
    r.finishReason = reason;
    r.usage.completionTokens = tokens;
    r.timings.queueMs = queueMs;
    r.timings.timeToFirstTokenMs = ttftMs;
    r.timings.totalMs = totalMs;
    return r;
}

}  // namespace

TEST(MetricsCollector, PercentilesWithinOnePercentOfExact) {
    FakeClock clock;
    SchedulerMetricsCollector m({}, clock.fn());
    std::mt19937_64 rng(9);
    std::lognormal_distribution<double> ttft(4, 0.8), decode(2, 0.5);
    std::vector<double> ttfts, e2es, tpots;
    for (int i = 0; i < 50000; ++i) {
        const double t = ttft(rng), d = decode(rng) * 31;
        m.recordFinished(finished(t / 2, t, t + d, 32), clock.now);
        ttfts.push_back(t);
        e2es.push_back(t + d);
        tpots.push_back(d / 31);
    }
    const RequestStatistics s = m.getRequestStatistics();
    const auto check = [](std::vector<double> exact, const LatencySummary& got) {
        std::sort(exact.begin(), exact.end());
        EXPECT_EQ(got.count, std::int64_t(exact.size()));
        for (auto [q, v] : {std::pair{50.0, got.p50}, {95.0, got.p95}, {99.0, got.p99}})
            EXPECT_NEAR(v, percentileOfSorted(exact, q), 0.01 * percentileOfSorted(exact, q)) << q;
        EXPECT_DOUBLE_EQ(got.max, exact.back());
        EXPECT_DOUBLE_EQ(got.min, exact.front());
    };
    check(ttfts, s.timeToFirstToken);
    check(e2es, s.endToEnd);
    check(tpots, s.timePerOutputToken);
    EXPECT_DOUBLE_EQ(s.P99Latency(), s.endToEnd.p99);
}

TEST(MetricsCollector, CountSumMinMaxExactAndCancelledExcluded) {
    FakeClock clock;
    SchedulerMetricsCollector m({}, clock.fn());
    m.recordFinished(finished(1, 10, 100, 5), clock.now);
    m.recordFinished(finished(2, 20, 300, 1), clock.now);
    m.recordFinished(finished(3, 30, 500, 0, FinishReason::Cancelled), clock.now);
    const RequestStatistics s = m.getRequestStatistics();
    EXPECT_EQ(s.completed, 3);
    EXPECT_EQ(s.endToEnd.count, 2);
    EXPECT_DOUBLE_EQ(s.endToEnd.sum, 400);
    EXPECT_DOUBLE_EQ(s.endToEnd.mean, 200);
    EXPECT_DOUBLE_EQ(s.endToEnd.min, 100);
    EXPECT_DOUBLE_EQ(s.endToEnd.max, 300);
    EXPECT_EQ(s.timePerOutputToken.count, 1);   // one token: no per-output-token time
    EXPECT_DOUBLE_EQ(s.timePerOutputToken.max, 90.0 / 4);
    EXPECT_DOUBLE_EQ(s.queueTime.sum, 3);
    EXPECT_EQ(s.finishReasons.at(FinishReason::Cancelled), 1);
}

TEST(MetricsCollector, MemoryDoesNotGrowWithRequests) {
    FakeClock clock;
    MetricsConfiguration config;
    config.recentSamples = 100;
    SchedulerMetricsCollector m(config, clock.fn());
    for (int i = 0; i < 200; ++i) m.recordFinished(finished(1, 2, 3 + i % 7, 4), clock.now);
    const std::size_t warm = m.latencyMemoryBytes();
    for (int i = 0; i < 300000; ++i) {
        clock.now += 1ms;
        m.recordFinished(finished(1, 2 + i % 100, 300 + i % 1000, 4), clock.now);
    }
    EXPECT_EQ(m.latencyMemoryBytes(), warm);
    EXPECT_EQ(m.getRequestStatistics().endToEnd.count, 300200);
}

TEST(MetricsCollector, WindowDropsOldSamples) {
    FakeClock clock;
    MetricsConfiguration config;
    config.windowSeconds = 10;
    config.windowSlots = 10;
    SchedulerMetricsCollector m(config, clock.fn());
    for (int i = 0; i < 10; ++i) m.recordFinished(finished(1, 5, 1000, 2), clock.now);
    clock.now += 6s;
    for (int i = 0; i < 10; ++i) m.recordFinished(finished(1, 5, 10, 2), clock.now);
    RequestStatistics s = m.getRequestStatistics();
    EXPECT_DOUBLE_EQ(s.windowSeconds, 10);
    EXPECT_EQ(s.recentEndToEnd.count, 20);
    clock.now += 5s;   // the first ten are 11 s old now
    s = m.getRequestStatistics();
    EXPECT_EQ(s.recentEndToEnd.count, 10);
    EXPECT_DOUBLE_EQ(s.recentEndToEnd.max, 10);
    EXPECT_EQ(s.endToEnd.count, 20);            // all time keeps them
    EXPECT_DOUBLE_EQ(s.endToEnd.max, 1000);
    clock.now += 20s;
    s = m.getRequestStatistics();
    EXPECT_EQ(s.recentEndToEnd.count, 0);
    EXPECT_EQ(s.recentTimeToFirstToken.count, 0);
    EXPECT_EQ(s.timeToFirstToken.count, 20);
}

TEST(MetricsCollector, ThroughputOverTheInjectedClock) {
    FakeClock clock;
    SchedulerMetricsCollector m({}, clock.fn());
    StepRecord step;
    step.prefillTokens = 100;
    step.generatedTokens = 10;
    m.recordStep(step, 8);
    double prompt = 0, generated = 0;
    m.recentThroughput(clock.now, prompt, generated, 1000ms);
    EXPECT_DOUBLE_EQ(prompt, 100);
    EXPECT_DOUBLE_EQ(generated, 10);
    clock.now += 2s;
    m.recentThroughput(clock.now, prompt, generated, 1000ms);
    EXPECT_EQ(prompt, 0);
    EXPECT_EQ(generated, 0);
    EXPECT_EQ(m.getBatchStatistics().steps, 1);
}

TEST(MetricsCollector, StepsAfterAndReset) {
    FakeClock clock;
    MetricsConfiguration config;
    config.stepHistory = 8;
    SchedulerMetricsCollector m(config, clock.fn());
    for (int i = 0; i < 20; ++i) {
        StepRecord s;
        s.index = i;
        m.recordStep(s, 4);
    }
    auto steps = m.stepsAfter(15);
    ASSERT_EQ(steps.size(), 4u);
    EXPECT_EQ(steps.front().index, 16);
    EXPECT_EQ(m.stepsAfter(-1).size(), 8u);   // bounded by the ring
    EXPECT_TRUE(m.stepsAfter(19).empty());
    m.recordFinished(finished(1, 2, 3, 2), clock.now);
    m.reset();
    const RequestStatistics s = m.getRequestStatistics();
    EXPECT_EQ(s.completed, 0);
    EXPECT_EQ(s.endToEnd.count, 0);
    EXPECT_EQ(s.recentEndToEnd.count, 0);
    EXPECT_EQ(m.getBatchStatistics().steps, 0);
}
