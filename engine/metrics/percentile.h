// The project's one percentile function and its convention (docs/metrics.md).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <span>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"

namespace batchscope::engine {

/// Percentile q (0..100, clamped) by linear interpolation between the closest ranks
/// (Hyndman-Fan type 7, NumPy's default): with n samples sorted ascending x[0..n-1],
/// rank r = q/100 * (n - 1), result = x[floor r] + (x[ceil r] - x[floor r]) * (r - floor r).
/// So p0 is the minimum, p100 the maximum, p50 of an even count the mean of the middle two.
/// Returns 0 for no samples. `sorted` must be sorted ascending. Pure; any thread.
double percentileOfSorted(std::span<const double> sorted, double q);

/// The same for unsorted samples (partially sorts them in place, O(n)).
double percentile(std::vector<double>& samples, double q);
/// The same on a copy.
double percentileOf(std::vector<double> samples, double q);

/// Exact count, sum, mean, min, max and p50/p95/p99 (the convention above) of `samples`.
LatencySummary summarizeSamples(std::vector<double> samples);

/// Interpolates between two order statistics per the convention: value at rank r given the
/// values at floor(r) and floor(r) + 1. Shared with LogHistogram, which keeps no samples.
inline double interpolateRank(double lower, double upper, double rank) {
    const double frac = rank - double(static_cast<long long>(rank));
    return lower + (upper - lower) * frac;
}

}  // namespace batchscope::engine
