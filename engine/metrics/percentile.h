// The project's one percentile function and its convention (docs/metrics.md). Header-only:
// ui/ uses it and links no engine library.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"

namespace batchscope::engine {

/// Interpolates between two order statistics per the convention below: the value at rank r
/// given the values at floor(r) and floor(r) + 1. Shared with LogHistogram, which keeps no
/// samples.
inline double interpolateRank(double lower, double upper, double rank) {
    const double frac = rank - std::floor(rank);
    return lower + (upper - lower) * frac;
}

inline double percentileRank(std::size_t n, double q) { return std::clamp(q, 0.0, 100.0) / 100.0 * double(n - 1); }

/// Percentile q (0..100, clamped) by linear interpolation between the closest ranks
/// (Hyndman-Fan type 7, NumPy's default): with n samples sorted ascending x[0..n-1],
/// rank r = q/100 * (n - 1), result = x[floor r] + (x[ceil r] - x[floor r]) * (r - floor r).
/// So p0 is the minimum, p100 the maximum, p50 of an even count the mean of the middle two.
/// Returns 0 for no samples. `sorted` must be sorted ascending. Pure; any thread.
inline double percentileOfSorted(std::span<const double> sorted, double q) {
    if (sorted.empty()) return 0;
    const double rank = percentileRank(sorted.size(), q);
    const auto lo = std::size_t(std::floor(rank));
    const auto hi = std::min(lo + 1, sorted.size() - 1);
    return interpolateRank(sorted[lo], sorted[hi], rank);
}

/// The same for unsorted samples (partially reorders them in place, O(n)).
inline double percentile(std::vector<double>& samples, double q) {
    if (samples.empty()) return 0;
    const double rank = percentileRank(samples.size(), q);
    const auto lo = std::size_t(std::floor(rank));
    const auto loIt = samples.begin() + std::ptrdiff_t(lo);
    std::nth_element(samples.begin(), loIt, samples.end());
    const double lower = *loIt;
    // After nth_element everything past lo is >= x[lo]; the next order statistic is its minimum.
    const double upper = lo + 1 < samples.size() ? *std::min_element(loIt + 1, samples.end()) : lower;
    return interpolateRank(lower, upper, rank);
}

/// The same on a copy.
inline double percentileOf(std::vector<double> samples, double q) { return percentile(samples, q); }

/// Exact count, sum, mean, min, max and p50/p95/p99 (the convention above) of `samples`.
inline LatencySummary summarizeSamples(std::vector<double> samples) {
    LatencySummary s;
    if (samples.empty()) return s;
    std::sort(samples.begin(), samples.end());
    s.count = std::int64_t(samples.size());
    for (double v : samples) s.sum += v;
    s.mean = s.sum / double(samples.size());
    s.min = samples.front();
    s.max = samples.back();
    s.p50 = percentileOfSorted(samples, 50);
    s.p95 = percentileOfSorted(samples, 95);
    s.p99 = percentileOfSorted(samples, 99);
    return s;
}

}  // namespace batchscope::engine
