// LogHistogram accuracy against exact sorted percentiles, constant memory, merging, windows.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "engine/metrics/log_histogram.h"
#include "engine/metrics/percentile.h"

using namespace batchscope::engine;
using namespace std::chrono_literals;

namespace {

void expectWithinOnePercent(const std::vector<double>& samples, const LogHistogram& h, const char* name) {
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    for (double q : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9}) {
        const double exact = percentileOfSorted(sorted, q);
        const double got = h.quantile(q);
        EXPECT_LE(std::abs(got - exact), 0.01 * std::abs(exact)) << name << " p" << q << " exact " << exact;
    }
    EXPECT_DOUBLE_EQ(h.quantile(0), sorted.front()) << name;
    EXPECT_DOUBLE_EQ(h.quantile(100), sorted.back()) << name;
}

std::vector<double> draw(std::size_t n, const std::function<double(std::mt19937_64&)>& f) {
    std::mt19937_64 rng(42);
    std::vector<double> v(n);
    for (double& x : v) x = f(rng);
    return v;
}

}  // namespace

TEST(LogHistogram, WithinOnePercentOnSeveralDistributions) {
    struct Case { const char* name; std::function<double(std::mt19937_64&)> f; };
    const std::vector<Case> cases = {
        {"uniform 1..1000 ms", [](auto& r) { return std::uniform_real_distribution<double>(1, 1000)(r); }},
        {"exponential mean 50 ms", [](auto& r) { return std::exponential_distribution<double>(0.02)(r) + 0.01; }},
        {"lognormal heavy tail", [](auto& r) { return std::lognormal_distribution<double>(3, 1.5)(r); }},
        {"pareto", [](auto& r) { return 5.0 / std::pow(std::uniform_real_distribution<double>(1e-6, 1)(r), 1 / 1.5); }},
        {"bimodal 2 ms / 800 ms", [](auto& r) {
             return std::bernoulli_distribution(0.9)(r) ? std::normal_distribution<double>(2, 0.2)(r)
                                                        : std::normal_distribution<double>(800, 50)(r);
         }},
        {"constant", [](auto&) { return 12.5; }},
    };
    for (const auto& c : cases) {
        const auto samples = draw(200000, c.f);
        LogHistogram h;
        for (double v : samples) h.record(v);
        expectWithinOnePercent(samples, h, c.name);
    }
}

TEST(LogHistogram, CountSumMinMaxExact) {
    LogHistogram h;
    const std::vector<double> v{0.5, 3.25, 1000.125, 0, 77};
    double sum = 0;
    for (double x : v) {
        h.record(x);
        sum += x;
    }
    EXPECT_EQ(h.count(), 5);
    EXPECT_DOUBLE_EQ(h.sum(), sum);
    EXPECT_DOUBLE_EQ(h.min(), 0);
    EXPECT_DOUBLE_EQ(h.max(), 1000.125);
    EXPECT_DOUBLE_EQ(h.mean(), sum / 5);
    const LatencySummary s = h.summary();
    EXPECT_EQ(s.count, 5);
    EXPECT_DOUBLE_EQ(s.min, 0);
    EXPECT_DOUBLE_EQ(s.max, 1000.125);
}

TEST(LogHistogram, MemoryIsConstantAndPercentilesKeepMoving) {
    LogHistogram h;
    const std::size_t before = h.memoryBytes();
    EXPECT_LT(before, 64u * 1024u);
    // 1,000,000 samples at ~10 ms, then 1,000,000 at ~100 ms: the median must follow (a capped
    // sample vector stopped at the first 200,000).
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> jitter(0.9, 1.1);
    for (int i = 0; i < 1000000; ++i) h.record(10 * jitter(rng));
    EXPECT_NEAR(h.quantile(50), 10, 0.2);
    for (int i = 0; i < 3000000; ++i) h.record(100 * jitter(rng));
    // Rank 2,000,000 is a third into the uniform 90..110 ms block: ~96.7 ms.
    EXPECT_NEAR(h.quantile(50), 96.67, 1.0);
    EXPECT_EQ(h.count(), 4000000);
    EXPECT_EQ(h.memoryBytes(), before);
}

TEST(LogHistogram, OutOfRangeValuesUseExactExtremes) {
    LogHistogram h;
    h.record(1e-6);
    h.record(5e9);
    EXPECT_DOUBLE_EQ(h.quantile(0), 1e-6);
    EXPECT_DOUBLE_EQ(h.quantile(100), 5e9);
    h.record(std::nan(""));
    EXPECT_EQ(h.count(), 2);
}

TEST(LogHistogram, MergeEqualsRecordingEverything) {
    LogHistogram a, b, all;
    for (int i = 1; i <= 1000; ++i) {
        (i % 2 ? a : b).record(i);
        all.record(i);
    }
    ASSERT_TRUE(a.merge(b));
    EXPECT_EQ(a.count(), all.count());
    EXPECT_DOUBLE_EQ(a.sum(), all.sum());
    for (double q : {5.0, 50.0, 99.0}) EXPECT_DOUBLE_EQ(a.quantile(q), all.quantile(q));
    LogHistogram other(0.02);
    EXPECT_FALSE(a.merge(other));
}

TEST(WindowedHistogram, OldSamplesLeaveTheWindow) {
    WindowedHistogram w(10s, 10);
    const WindowedHistogram::Clock::time_point t0{1000s};
    for (int i = 0; i < 100; ++i) w.record(1.0, t0);
    for (int i = 0; i < 100; ++i) w.record(50.0, t0 + 5s);
    EXPECT_EQ(w.window(t0 + 5s).count(), 200);
    // 9 s after the first samples they are still inside; at 10 s they have left.
    EXPECT_EQ(w.window(t0 + 9s).count(), 200);
    const LogHistogram later = w.window(t0 + 10s);
    EXPECT_EQ(later.count(), 100);
    EXPECT_DOUBLE_EQ(later.min(), 50.0);
    EXPECT_EQ(w.window(t0 + 15s).count(), 0);
    // All time keeps everything; a sample older than a reused slot only counts there.
    EXPECT_EQ(w.allTime().count(), 200);
    w.record(7.0, t0 + 30s);
    w.record(7.0, t0 + 20s);   // same slot as t0 + 30 s, older: all-time only
    EXPECT_EQ(w.window(t0 + 30s).count(), 1);
    EXPECT_EQ(w.allTime().count(), 202);
}

TEST(WindowedHistogram, MemoryIsConstant) {
    WindowedHistogram w(10s, 10);
    const std::size_t before = w.memoryBytes();
    const WindowedHistogram::Clock::time_point t0{0s};
    for (int i = 0; i < 200000; ++i) w.record(double(i % 5000) + 1, t0 + std::chrono::milliseconds(i));
    EXPECT_EQ(w.memoryBytes(), before);
    EXPECT_EQ(w.allTime().count(), 200000);
}
