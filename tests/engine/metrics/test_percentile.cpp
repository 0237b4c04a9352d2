// The project's one percentile convention: linear interpolation between closest ranks.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "engine/metrics/percentile.h"

using namespace batchscope::engine;

TEST(Percentile, InterpolatesBetweenClosestRanks) {
    std::vector<double> v{40, 10, 30, 20};   // sorted 10 20 30 40, ranks 0..3
    EXPECT_DOUBLE_EQ(percentileOf(v, 0), 10);
    EXPECT_DOUBLE_EQ(percentileOf(v, 100), 40);
    EXPECT_DOUBLE_EQ(percentileOf(v, 50), 25);        // rank 1.5
    EXPECT_DOUBLE_EQ(percentileOf(v, 25), 17.5);      // rank 0.75
    EXPECT_DOUBLE_EQ(percentileOf(v, 99), 39.7);      // rank 2.97
    EXPECT_DOUBLE_EQ(percentileOf(v, -5), 10);        // clamped
    EXPECT_DOUBLE_EQ(percentileOf(v, 250), 40);
}

TEST(Percentile, EmptyAndSingle) {
    EXPECT_EQ(percentileOf({}, 50), 0);
    EXPECT_EQ(percentileOf({7}, 99), 7);
    EXPECT_EQ(percentileOfSorted(std::vector<double>{}, 50), 0);
}

TEST(Percentile, SelectionMatchesSortedForm) {
    std::mt19937_64 rng(3);
    std::exponential_distribution<double> d(0.1);
    std::vector<double> v(1001);
    for (double& x : v) x = d(rng);
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (double q : {0.0, 1.0, 33.3, 50.0, 95.0, 99.0, 99.9, 100.0}) {
        std::vector<double> copy = v;
        EXPECT_DOUBLE_EQ(percentile(copy, q), percentileOfSorted(sorted, q)) << q;
    }
}

TEST(Percentile, SummaryIsExact) {
    const LatencySummary s = summarizeSamples({5, 1, 3, 2, 4});
    EXPECT_EQ(s.count, 5);
    EXPECT_DOUBLE_EQ(s.sum, 15);
    EXPECT_DOUBLE_EQ(s.mean, 3);
    EXPECT_DOUBLE_EQ(s.min, 1);
    EXPECT_DOUBLE_EQ(s.max, 5);
    EXPECT_DOUBLE_EQ(s.p50, 3);
    EXPECT_DOUBLE_EQ(s.p95, 4.8);
}
