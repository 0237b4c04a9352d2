// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/metrics/percentile.h"

#include <algorithm>
#include <cmath>

namespace batchscope::engine {

namespace {
double rankOf(std::size_t n, double q) { return std::clamp(q, 0.0, 100.0) / 100.0 * double(n - 1); }
}  // namespace

double percentileOfSorted(std::span<const double> sorted, double q) {
    if (sorted.empty()) return 0;
    const double rank = rankOf(sorted.size(), q);
    const auto lo = std::size_t(std::floor(rank));
    const auto hi = std::min(lo + 1, sorted.size() - 1);
    return interpolateRank(sorted[lo], sorted[hi], rank);
}

double percentile(std::vector<double>& samples, double q) {
    if (samples.empty()) return 0;
    const double rank = rankOf(samples.size(), q);
    const auto lo = std::size_t(std::floor(rank));
    const auto loIt = samples.begin() + std::ptrdiff_t(lo);
    std::nth_element(samples.begin(), loIt, samples.end());
    const double lower = *loIt;
    // After nth_element everything past lo is >= x[lo]; the next order statistic is its minimum.
    const double upper = lo + 1 < samples.size() ? *std::min_element(loIt + 1, samples.end()) : lower;
    return interpolateRank(lower, upper, rank);
}

double percentileOf(std::vector<double> samples, double q) { return percentile(samples, q); }

LatencySummary summarizeSamples(std::vector<double> samples) {
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
